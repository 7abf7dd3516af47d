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
import { apiError, fromRejection, invalid, toServiceError, type ApiError } from './errors.js';
import type { ReadOptions, WriteOptions } from './requests.js';
import { memorySnapshot, type Snapshot } from './snapshot.js';
import type { ViewReader, ViewSnapshot } from './viewReader.js';
import type { View } from '../../projections/view.js';

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

/** A call's deadline (ms since epoch), bounded by the configured wait timeout. */
export type Call = { readonly deadline: number };

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
export const envelope = (write: WriteOptions) => ({
  schema: 1 as const,
  id: write?.event_id || randomUUID(),
  at: write?.at ?? new Date().toISOString(),
});

export const unavailable = (what: string, error: unknown): ApiError =>
  apiError('UNAVAILABLE', `${what}: ${error instanceof Error ? error.message : String(error)}`);

/**
 * Appends an event; with `wait`, waits for the view to apply it and reports the fold's verdict
 * (a rejected event becomes the matching error). Never reports success for an event not stored.
 */
export const append = async (deps: ApiDeps, call: Call, candidate: unknown, wait: boolean): Result<WriteResult> => {
  const checked = decodeValue(candidate);
  if (E.isLeft(checked)) return E.left(invalid(checked.left));
  const event: CoordinatorEvent = checked.right;
  // JetStream refuses a larger message, and retrying cannot help: say so instead of UNAVAILABLE.
  const bytes = Buffer.byteLength(JSON.stringify(event));
  if (bytes > MAX_EVENT_BYTES) {
    return E.left(invalid(`(request): the event it would append is ${bytes} bytes, more than the ${MAX_EVENT_BYTES} an event may have; send less (shorter attributes or path, fewer ids)`));
  }
  if (!deps.natsConnected()) return E.left(apiError('UNAVAILABLE', 'event not stored: NATS is unreachable; retry with the same event_id'));
  let stored;
  try {
    // Leave time to answer before the caller's deadline: an unacknowledged write is an error, not a timeout.
    stored = await deps.appender.append(event, call.deadline - 250);
  } catch (error) {
    return E.left(unavailable('event not stored (NATS JetStream did not acknowledge it)', error));
  }
  deps.log.info({ eventId: event.id, seq: stored.seq, type: event.type, duplicate: stored.duplicate }, 'event appended via API');
  const result: WriteResult = {
    sequence: String(stored.seq),
    event_id: event.id,
    duplicate: stored.duplicate,
    view_reached: false,
    view_sequence: '0',
  };
  if (!wait) return E.right(result);
  const reached = await deps.reader.waitFor(stored.seq, call.deadline);
  if (!reached) {
    return E.left(apiError('DEADLINE_EXCEEDED', `event ${event.id} stored at sequence ${stored.seq}, but the view had not applied it by the deadline`));
  }
  const rejected = await deps.reader.rejected(event.id);
  if (rejected !== undefined) return E.left(fromRejection(rejected.reason));
  return E.right({ ...result, view_reached: true, view_sequence: String(deps.reader.latest) });
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

const looksUnreachable = (error: unknown): boolean =>
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
    handler(call.request, { deadline }).then(
      (result) => (E.isRight(result) ? callback(null, result.right) : callback(toServiceError(result.left))),
      (error: unknown) => {
        const mapped = looksUnreachable(error) ? unavailable('storage unreachable', error) : apiError('INTERNAL', 'internal error; see the coordinator log');
        deps.log.error({ err: error, method }, 'request failed');
        callback(toServiceError(mapped));
      },
    );
  };
