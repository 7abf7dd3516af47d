// The leader's sync requests: decide (pure, projections/sync.ts), publish each region's request on
// jzse.sync.requests.<region> (JZSE_SYNC, with an id derived from its content, so a re-send is
// stored once), then record it in the log as sync.requested so every instance, and replay, knows.
// Projection comes first: a tick is bounded in time and in requests, and the dispatcher waits while
// the requests it appended are not yet projected, so a region that never acks cannot starve it.
import type { JetStreamClient } from '@nats-io/jetstream';
import { decideSync, type SyncDispatch, type SyncSettings } from '../../projections/sync.js';
import type { View } from '../../projections/view.js';
import type { Touched } from '../../projections/draft.js';
import type { SyncRequested } from '../../streams/events.js';
import { SyncCandidates } from './candidates.js';
import { MAX_EVENT_BYTES } from '../../streams/decode.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import { coordinatorPrincipal } from '../../streams/principal.js';
import type { Appender } from '../nats/appender.js';
import type { Logger } from '../observability/log.js';
import { onAbort } from '../util/abort.js';

/** The request message a region receives (docs/events.md, "Sync requests"). */
export type SyncRequestMessage = {
  readonly schema: 1;
  readonly id: string;
  readonly region: string;
  readonly reason: SyncDispatch['reason'];
  readonly at: string;
  readonly files: SyncDispatch['items'];
};

/** Limits per tick: time spent indexing after election, requests in flight, files offered. */
export type DispatchLimits = { readonly scanSliceMs: number; readonly maxOutstanding: number; readonly batchesPerTick: number };

export const DEFAULT_LIMITS: DispatchLimits = { scanSliceMs: 20, maxOutstanding: 8, batchesPerTick: 4 };

/** Derived from the content (files, versions, attempts), so a re-send of the same request is stored once. */
export const requestId = (d: SyncDispatch): string => {
  let h = 0x811c9dc5;
  for (const i of d.items) for (const ch of `${i.fileId}/${i.eventId}/${i.attempt};`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `sync:${d.region}:${d.items[0]?.seq ?? 0}:${d.items.length}:${h.toString(36)}`;
};

/** The leader's record of a request it sent, appended to the log (docs/events.md, `sync.requested`). */
export const requestRecord = (message: SyncRequestMessage, observer: string): SyncRequested => ({
  schema: 1, id: `dispatched:${message.id}`, type: 'sync.requested', at: message.at, region: message.region, observer,
  files: message.files.map((i) => ({ fileId: i.fileId, eventId: i.eventId, attempt: i.attempt })),
});

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * A dispatch split so that its request message and its sync.requested record are each at most an
 * event's size: a record the fold refuses for its size would leave the request unrecorded, and a
 * message over the server's max_payload cannot be published at all (long ids, large clocks).
 */
export const fitting = (d: SyncDispatch): SyncDispatch[] => {
  if (d.items.length <= 1) return [d];
  const message: SyncRequestMessage = { schema: 1, id: requestId(d), region: d.region, reason: d.reason, at: new Date(0).toISOString(), files: d.items };
  // The observer and `at` are bounded (256 chars, a timestamp): leave room for them.
  if (bytesOf(message) <= MAX_EVENT_BYTES - 1024 && bytesOf(requestRecord(message, '')) <= MAX_EVENT_BYTES - 1024) return [d];
  const half = Math.ceil(d.items.length / 2);
  return [...fitting({ ...d, items: d.items.slice(0, half) }), ...fitting({ ...d, items: d.items.slice(half) })];
};

export const startSyncDispatcher = (o: {
  readonly js: JetStreamClient;
  readonly view: () => View | undefined;
  /** False until the log holds the policies this leader is configured with. */
  readonly ready: (view: View) => boolean;
  readonly appender: Appender;
  readonly settings: SyncSettings;
  readonly observer: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly limits?: DispatchLimits;
}): { readonly tick: () => Promise<void>; readonly noteCommitted: (view: View, touched: readonly Touched[]) => void } => {
  const limits = o.limits ?? DEFAULT_LIMITS;
  const candidates = new SyncCandidates(o.settings, (r) => {
    const rejected = o.view()?.rejected.get(`dispatched:${r.requestId}`);
    o.log.error({ requestId: r.requestId, pending: r.key, attempt: r.attempt, rejected: rejected?.reason },
      'the log did not record a sync request that was sent; it is retried after the backoff with the next attempt');
  });
  const send = async (view: View, d: SyncDispatch): Promise<boolean> => {
    const id = requestId(d);
    const message: SyncRequestMessage = { schema: 1, id, region: d.region, reason: d.reason, at: new Date().toISOString(), files: d.items };
    try {
      const ack = await o.js.publish(syncRequestsSubject(d.region), new TextEncoder().encode(JSON.stringify(message)), { msgID: id });
      const appended = await o.appender.append(requestRecord(message, o.observer), undefined, coordinatorPrincipal(o.observer));
      candidates.sent(o.view() ?? view, appended.seq, d.region, d.items, id, message.at);
      o.log.info({ requestId: id, region: d.region, reason: d.reason, files: d.items.length, outboundSeq: ack.seq }, 'sync request sent');
      return true;
    } catch (error) {
      o.log.warn({ requestId: id, err: error }, 'sync request not sent; will retry');
      return false;
    }
  };
  let running = false;
  const tick = async (): Promise<void> => {
    const view = o.view();
    if (view === undefined || running || o.signal.aborted || !o.ready(view)) return;
    running = true;
    try {
      candidates.start(view);
      candidates.scan(view, performance.now() + limits.scanSliceMs);
      if (candidates.outstanding() >= limits.maxOutstanding) return;
      const now = Date.now();
      const taken = new Set(candidates.take(now, limits.batchesPerTick * o.settings.batchSize));
      if (taken.size === 0) return;
      const decided = decideSync(candidates.asSent(view, taken), new Date(now).toISOString(), o.settings, taken);
      for (const d of decided.flatMap(fitting)) {
        if (o.signal.aborted || !(await send(view, d))) break;
        for (const i of d.items) taken.delete(`${d.region}/${i.fileId}`);
      }
      candidates.restore(o.view() ?? view, taken);
    } finally {
      running = false;
    }
  };
  const every = Math.max(50, Math.min(250, Math.floor(o.settings.flushIntervalMs / 2)));
  const timer = setInterval(() => void tick().catch((error: unknown) => o.log.error({ err: error }, 'sync dispatch failed; next tick retries')), every);
  timer.unref();
  // A term that ended before this started (lease lost during the leader's set-up) clears it at once.
  onAbort(o.signal, () => clearInterval(timer));
  return { tick, noteCommitted: (view, touched) => candidates.noteCommitted(view, touched) };
};
