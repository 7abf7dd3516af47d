// What every handler shares: decoding requests, appending events (optionally waiting for the
// view), read-your-writes waits, and the one place where values become gRPC replies.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { MAX_EVENT_BYTES, decodeValue, describeErrors } from '../../streams/decode.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import type { Appender } from '../nats/appender.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { apiError, fromRejectedEntry, fromRejection, invalid, requestField, toServiceError, type ApiError, type FieldNames } from './errors.js';
import type { ReadOptions, WriteOptions } from './requests.js';
import { memorySnapshot, type Snapshot } from '../etcd/snapshot.js';
import type { ViewReader, ViewSnapshot } from '../etcd/viewReader.js';
import { Map as IMap } from 'immutable';
import { decide, needsOf } from '../../projections/decider.js';
import type { Decision } from '../../projections/decision.js';
import { entryOf } from '../../projections/entry.js';
import type { Rejection } from '../../projections/rejection.js';
import { emptyView, type View } from '../../projections/view.js';
import { apiSubjectFor } from '../../streams/subjects.js';
import type { Caller } from '../auth/model.js';
import { authorize, PERMISSION_OF_EVENT, type Permission } from '../auth/permissions.js';
import { callerOf } from './guard.js';

export type ApiDeps = {
  readonly appender: Appender;
  readonly natsConnected: () => boolean;
  readonly reader: ViewReader;
  readonly log: Logger;
  readonly waitTimeoutMs: number;
  /** A view this process knows to be committed in etcd (a leader's last batch, a follower's warm view). */
  readonly committed?: () => View | undefined;
  readonly metrics?: Metrics;
};

export type Result<A> = Promise<E.Either<ApiError, A>>;

/** What a handler receives for bytes that are not a protobuf message of its request type (server.ts). */
export class UnparsableRequest {
  constructor(readonly type: string, readonly reason: string) {}
}

/**
 * A call's deadline (ms since epoch), bounded by the configured wait timeout, and the caller the
 * guard verified (undefined only when authentication is off).
 */
export type Call = { readonly deadline: number; readonly caller?: Caller };

/**
 * Whether the call may use `permission` for `region` (a region token acts for its own region only).
 * With authentication off there is no caller and everything is allowed.
 */
export const mayActFor = (call: Call, permission: Permission, region?: string, field = 'region_id'): E.Either<ApiError, true> => {
  if (call.caller === undefined) return E.right(true);
  return E.mapLeft((reason: string) => apiError('PERMISSION_DENIED', `${field}: ${reason}`))(authorize(call.caller, permission, region));
};

/**
 * Operator events record who did it: the proven principal, never the request's claim. An empty
 * `operator` is filled in; a different one is refused rather than silently rewritten.
 */
const asCaller = (candidate: unknown, call: Call, names: FieldNames | undefined): E.Either<ApiError, unknown> => {
  if (call.caller === undefined || typeof candidate !== 'object' || candidate === null || !('operator' in candidate)) return E.right(candidate);
  const claimed = (candidate as { operator?: unknown }).operator;
  const name = call.caller.principal.name;
  if (claimed !== undefined && claimed !== '' && claimed !== name) {
    return E.left(apiError('PERMISSION_DENIED', `${requestField('operator', names ?? {})}: names ${JSON.stringify(claimed)}, but the caller is ${name}; leave it empty (the caller is recorded)`));
  }
  return E.right({ ...candidate, operator: name });
};

/** Map keys (attribute names, clock regions) can be thousands of characters: name them by their first 40. */
const shortKeys = (errors: t.Errors): t.Errors =>
  errors.map((e) => ({ ...e, context: e.context.map((c) => (c.key.length > 40 ? { ...c, key: `${c.key.slice(0, 39)}…` } : c)) }));

export const decodeRequest = <A>(codec: t.Decoder<unknown, A>, request: unknown): E.Either<ApiError, A> =>
  E.mapLeft((errors: t.Errors) => invalid(describeErrors(shortKeys(errors))))(codec.decode(request));

export type WriteResult = {
  sequence: string;
  event_id: string;
  duplicate: boolean;
  view_reached: boolean;
  view_sequence: string;
};

/** Fields every event built from a request carries. */
export const envelope = (write: Pick<NonNullable<WriteOptions>, 'event_id' | 'at'> | null | undefined) => ({
  schema: 1 as const,
  id: write?.event_id || randomUUID(),
  at: write?.at ?? new Date().toISOString(),
});

export const unavailable = (what: string, error: unknown): ApiError =>
  apiError('UNAVAILABLE', `${what}: ${error instanceof Error ? error.message : String(error)}`);

/** What the fold made of a write it was waited for. */
export type Folded = 'applied' | 'conflict';

export type Submitted = {
  readonly write: WriteResult;
  /** The decider's verdict on the view this instance had: why the event was appended (or, for no_op, not). */
  readonly decision: Decision;
  /** With `wait`: the fold's own verdict for this event; null when not waited for. */
  readonly folded: Folded | null;
  /** The records the decision was made on (at `state.seq`). */
  readonly state: View;
};

export type SubmitOptions = {
  readonly wait: boolean;
  /** How the request spells the event's fields, for messages. */
  readonly names?: FieldNames;
  /** A change the decider finds EQUAL to the stored version is not appended (Update's NO_OP). */
  readonly skipNoOp?: boolean;
  /** Decide on a view that reflects at least this sequence (`write.min_sequence`). */
  readonly minSequence?: number;
  /** Extra trailers for a refusal (e.g. the current version with ABORTED). */
  readonly details?: (r: Rejection, state: View) => Record<string, unknown> | undefined;
  /**
   * A caller's condition on the records `decide` reads (REST's `If-Match`), checked on that same
   * state just before it: a refusal appends nothing, and no other state can slip in between.
   */
  readonly precondition?: (state: View) => ApiError | undefined;
};

const mapOf = <V>(records: Map<string, V>): IMap<string, V> => IMap(records);

/**
 * The records `decide` reads: the committed view in memory when this process has one at least as
 * new as the checkpoint it has seen, else exactly those records from etcd at one checkpoint.
 */
const stateFor = async (deps: ApiDeps, event: CoordinatorEvent): Promise<View> => {
  const memory = deps.committed?.();
  if (memory !== undefined && memory.seq >= deps.reader.latest) return memory;
  const at = deps.reader.snapshot();
  const needs = needsOf(event);
  const [files, regions, conflicts, policies, rejected] = await Promise.all([
    at.getMany('files', needs.files), at.getMany('regions', needs.regions), at.getMany('conflicts', needs.conflicts),
    at.getMany('policies', needs.policies), at.getMany('rejected', [event.id]),
  ]);
  for (const c of conflicts.values()) {
    const file = await at.get('files', c.fileId);
    if (file !== undefined) files.set(file.fileId, file);
  }
  return { ...emptyView(), seq: at.seq, files: mapOf(files), regions: mapOf(regions), conflicts: mapOf(conflicts), policies: mapOf(policies), rejected: mapOf(rejected) };
};

/**
 * Judges an event with the domain's own `decide` on the view this instance has (a refusal appends
 * nothing), appends the bytes encoded here once, and with `wait` reports the fold's verdict for it
 * (a rejection becomes the matching status). Never reports success for an event not stored.
 */
export const submit = async (deps: ApiDeps, call: Call, candidate: unknown, o: SubmitOptions): Result<Submitted> => {
  const claimed = asCaller(candidate, call, o.names);
  if (E.isLeft(claimed)) return claimed;
  const checked = decodeValue(claimed.right);
  if (E.isLeft(checked)) return E.left(invalid(checked.left));
  const event: CoordinatorEvent = checked.right;
  // Checked on the decoded event, before anything is read or appended: a refusal stores nothing.
  const allowed = mayActFor(call, PERMISSION_OF_EVENT[event.type], 'region' in event ? event.region : undefined, requestField('region', o.names ?? {}));
  if (E.isLeft(allowed)) return allowed;
  const data = new TextEncoder().encode(JSON.stringify(event));
  // JetStream refuses a larger message, and retrying cannot help: say so instead of UNAVAILABLE.
  if (data.byteLength > MAX_EVENT_BYTES) {
    return E.left(invalid(`(request): the event it would append is ${data.byteLength} bytes, more than the ${MAX_EVENT_BYTES} an event may have; send less (shorter attributes or path, fewer ids)`));
  }
  const subject = apiSubjectFor(event);
  const min = o.minSequence ?? 0;
  if (min > deps.reader.latest && !(await deps.reader.waitFor(min, call.deadline))) {
    return E.left(apiError('DEADLINE_EXCEEDED', `write.min_sequence: the view had not reached sequence ${min} by the deadline; nothing was appended`));
  }
  const state = await stateFor(deps, event);
  const unmet = o.precondition?.(state);
  if (unmet !== undefined) return E.left(unmet);
  const decided = decide(state, entryOf(event, subject, state.seq + 1, new Date().toISOString()), event);
  if (E.isLeft(decided)) return E.left(fromRejection(decided.left, o.names, o.details?.(decided.left, state)));
  const decision = decided.right;
  if (o.skipNoOp === true && decision.kind === 'no_op') {
    return E.right({ write: { sequence: '0', event_id: '', duplicate: false, view_reached: true, view_sequence: String(state.seq) }, decision, folded: null, state });
  }
  if (!deps.natsConnected()) return E.left(apiError('UNAVAILABLE', 'event not stored: NATS is unreachable; retry with the same event_id'));
  let stored;
  try {
    // Leave time to answer before the caller's deadline: an unacknowledged write is an error, not a timeout.
    stored = await deps.appender.appendBytes(subject, data, event.id, event.type, call.deadline - 250, call.caller?.principal.name);
  } catch (error) {
    return E.left(unavailable('event not stored (NATS JetStream did not acknowledge it)', error));
  }
  deps.log.info({ eventId: event.id, seq: stored.seq, type: event.type, duplicate: stored.duplicate }, 'event appended via API');
  const write: WriteResult = { sequence: String(stored.seq), event_id: event.id, duplicate: stored.duplicate, view_reached: false, view_sequence: '0' };
  if (!o.wait) return E.right({ write, decision, folded: null, state });
  const reached = await deps.reader.waitFor(stored.seq, call.deadline);
  if (!reached) {
    return E.left(apiError('DEADLINE_EXCEEDED', `event ${event.id} stored at sequence ${stored.seq}, but the view had not applied it by the deadline`));
  }
  const rejected = await deps.reader.rejected(event.id);
  if (rejected !== undefined) return E.left(fromRejectedEntry(rejected, o.names));
  const folded: Folded = (await deps.reader.conflict(event.id)) !== undefined ? 'conflict' : 'applied';
  return E.right({ write: { ...write, view_reached: true, view_sequence: String(deps.reader.latest) }, decision, folded, state });
};

/** `submit` for callers that only need the write's result. */
export const append = async (deps: ApiDeps, call: Call, candidate: unknown, write: WriteOptions | boolean, names?: FieldNames): Result<WriteResult> => {
  const o = typeof write === 'boolean' ? { wait: write } : { wait: write?.wait_for_view ?? false, minSequence: write?.min_sequence ?? 0 };
  return E.map((s: Submitted) => s.write)(await submit(deps, call, candidate, names === undefined ? o : { ...o, names }));
};

/** Read-your-writes: waits until the view reflects `read.min_sequence`; the view in etcd from then on. */
export const readAt = async (deps: ApiDeps, call: Call, read: ReadOptions): Result<ViewSnapshot> => {
  const min = read?.min_sequence ?? 0;
  if (min > deps.reader.latest && !(await deps.reader.waitFor(min, call.deadline))) {
    return E.left(apiError('DEADLINE_EXCEEDED', `the view had not reached sequence ${min} by the deadline`));
  }
  return E.right(deps.reader.snapshot());
};

/**
 * For point reads: the committed view in memory when it is at least `min_sequence` and at least the
 * checkpoint this process has seen (never older than a read from etcd would be), else etcd.
 */
export const readPoint = async (deps: ApiDeps, call: Call, read: ReadOptions): Result<Snapshot> => {
  const inMemory = (): Snapshot | undefined => {
    const view = deps.committed?.();
    return view !== undefined && view.seq >= Math.max(read?.min_sequence ?? 0, deps.reader.latest) ? memorySnapshot(view) : undefined;
  };
  const now = inMemory();
  if (now !== undefined) return E.right(now);
  const etcd = await readAt(deps, call, read);
  return E.isRight(etcd) ? E.right(inMemory() ?? etcd.right) : etcd;
};

export const looksUnreachable = (error: unknown): boolean =>
  error instanceof Error &&
  /unavailable|ECONNREFUSED|connection|closed|timeout|deadline|no responders|disconnect/i.test(`${error.name} ${error.message}`);

/** Adapts a value-returning handler to grpc-js: the one place errors become statuses. */
export const unary =
  <Req, Res>(deps: ApiDeps, method: string, handler: (request: Req, call: Call) => Result<Res>): grpc.handleUnaryCall<Req, Res> =>
  (call, callback) => {
    if (call.request instanceof UnparsableRequest) {
      callback(toServiceError(invalid(`(request): not a valid ${call.request.type} message: ${call.request.reason}`)));
      return;
    }
    const callDeadline = call.getDeadline();
    const asMs = callDeadline instanceof Date ? callDeadline.getTime() : Number(callDeadline);
    const deadline = Math.min(Number.isFinite(asMs) ? asMs : Infinity, Date.now() + deps.waitTimeoutMs);
    const caller = callerOf(call);
    handler(call.request, caller === undefined ? { deadline } : { deadline, caller }).then(
      (result) => (E.isRight(result) ? callback(null, result.right) : callback(toServiceError(result.left))),
      (error: unknown) => {
        const mapped = looksUnreachable(error) ? unavailable('storage unreachable', error) : apiError('INTERNAL', 'internal error; see the coordinator log');
        deps.log.error({ err: error, method }, 'request failed');
        callback(toServiceError(mapped));
      },
    );
  };
