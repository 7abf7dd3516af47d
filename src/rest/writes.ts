// Every REST write: an event built from the request, judged and appended by the API's one judge
// (`submit` of src/api/context.ts: the domain's decide, the caller's region checked on the decoded
// event, nothing appended on a refusal). `Idempotency-Key` is the event id (a retry is stored once),
// `wait` awaits the fold's verdict, `If-Match` is checked on the state the decision is made on.
import * as E from 'fp-ts/lib/Either.js';
import type { View } from '../../projections/view.js';
import { envelope, submit, type ApiDeps, type Call, type Result, type Submitted } from '../api/context.js';
import type { ApiError, FieldNames } from '../api/errors.js';
import { ifMatchFailed } from './problem.js';

export type WriteInput = {
  readonly query: { readonly wait?: boolean; readonly min_sequence?: number };
  readonly headers: { readonly 'idempotency-key'?: string; readonly 'if-match'?: string };
};

export const base = (input: WriteInput) => envelope({ event_id: input.headers['idempotency-key'] ?? '', at: null });

export type WriteOptions = {
  readonly names?: FieldNames;
  readonly skipNoOp?: boolean;
  readonly precondition?: (state: View) => ApiError | undefined;
  readonly details?: Parameters<typeof submit>[3]['details'];
};

export const write = (deps: ApiDeps, call: Call, input: WriteInput, event: unknown, o: WriteOptions = {}): Result<Submitted> =>
  submit(deps, call, event, {
    wait: input.query.wait ?? true,
    minSequence: input.query.min_sequence ?? 0,
    ...(o.names === undefined ? {} : { names: o.names }),
    ...(o.skipNoOp === undefined ? {} : { skipNoOp: o.skipNoOp }),
    ...(o.precondition === undefined ? {} : { precondition: o.precondition }),
    ...(o.details === undefined ? {} : { details: o.details }),
  });

/** The numbers of a write as REST answers them (gRPC's strings are int64s). */
export const writeResult = (s: Submitted) => ({
  sequence: Number(s.write.sequence),
  event_id: s.write.event_id,
  duplicate: s.write.duplicate,
  view_reached: s.write.view_reached,
  view_sequence: Number(s.write.view_sequence),
});

export const written = E.map((s: Submitted) => ({ write: writeResult(s) }));

/**
 * `If-Match: <etag>[, <etag>…]` or `*` against the current ETag (null: no such resource). Absent:
 * no condition. Weak tags never match (RFC 9110 strong comparison).
 */
export const ifMatch = (header: string | undefined, current: string | null, what: string, present?: unknown): ApiError | undefined => {
  if (header === undefined) return undefined;
  const tags = header.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const ok = current !== null && tags.some((t) => t === '*' || t === current);
  return ok ? undefined : ifMatchFailed(what, current, present);
};
