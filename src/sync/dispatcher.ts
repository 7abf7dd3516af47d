// The leader's sync requests: decide (pure, projections/sync.ts), publish each region's request on
// jzse.sync.requests.<region> (JZSE_SYNC, with an id derived from its content, so a re-send is
// stored once), then record it in the log as sync.requested so every instance, and replay, knows.
import type { JetStreamClient } from '@nats-io/jetstream';
import { decideSync, type SyncDispatch, type SyncSettings } from '../../projections/sync.js';
import type { View } from '../../projections/view.js';
import type { Touched } from '../../projections/draft.js';
import { SyncCandidates } from './candidates.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import type { Appender } from '../nats/appender.js';
import type { Logger } from '../observability/log.js';

/** The request message a region receives (docs/events.md, "Sync requests"). */
export type SyncRequestMessage = {
  readonly schema: 1;
  readonly id: string;
  readonly region: string;
  readonly reason: SyncDispatch['reason'];
  readonly at: string;
  readonly files: SyncDispatch['items'];
};

const requestId = (d: SyncDispatch): string => {
  let h = 0x811c9dc5;
  for (const i of d.items) for (const ch of `${i.fileId}/${i.eventId}/${i.attempt};`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `sync:${d.region}:${d.items[0]?.seq ?? 0}:${d.items.length}:${h.toString(36)}`;
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
}): { readonly tick: () => Promise<void>; readonly noteCommitted: (view: View, touched: readonly Touched[]) => void } => {
  // Sent but not yet folded back as sync.requested: not sent again meanwhile.
  const inFlight = new Set<string>();
  const candidates = new SyncCandidates(o.settings);
  let running = false;
  const tick = async (): Promise<void> => {
    const view = o.view();
    if (view === undefined || running || o.signal.aborted || !o.ready(view)) return;
    running = true;
    try {
      const now = new Date();
      for (const dispatch of decideSync(view, now.toISOString(), o.settings, candidates.current(view, now.getTime()))) {
        const items = dispatch.items.filter((i) => !inFlight.has(`${dispatch.region}/${i.fileId}/${i.eventId}/${i.attempt}`));
        if (items.length === 0) continue;
        const d = { ...dispatch, items };
        const id = requestId(d);
        const message: SyncRequestMessage = { schema: 1, id, region: d.region, reason: d.reason, at: new Date().toISOString(), files: items };
        for (const i of items) inFlight.add(`${d.region}/${i.fileId}/${i.eventId}/${i.attempt}`);
        try {
          const ack = await o.js.publish(syncRequestsSubject(d.region), new TextEncoder().encode(JSON.stringify(message)), { msgID: id });
          await o.appender.append({
            schema: 1, id: `dispatched:${id}`, type: 'sync.requested', at: message.at, region: d.region, observer: o.observer,
            files: items.map((i) => ({ fileId: i.fileId, eventId: i.eventId, attempt: i.attempt })),
          });
          o.log.info({ requestId: id, region: d.region, reason: d.reason, files: items.length, outboundSeq: ack.seq }, 'sync request sent');
        } catch (error) {
          for (const i of items) inFlight.delete(`${d.region}/${i.fileId}/${i.eventId}/${i.attempt}`);
          o.log.warn({ requestId: id, err: error }, 'sync request not sent; will retry');
        }
      }
      // Forget what the view now shows as requested.
      const latest = o.view() ?? view;
      for (const key of inFlight) {
        const [region, fileId, eventId, attempt] = key.split('/');
        const p = latest.pending.get(`${region}/${fileId}`);
        if (p === undefined || p.eventId !== eventId || (p.requested?.attempt ?? 0) >= Number(attempt)) inFlight.delete(key);
      }
      candidates.prune(latest);
    } finally {
      running = false;
    }
  };
  const every = Math.max(50, Math.min(250, Math.floor(o.settings.flushIntervalMs / 2)));
  const timer = setInterval(() => void tick().catch((error: unknown) => o.log.error({ err: error }, 'sync dispatch failed; next tick retries')), every);
  timer.unref();
  o.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { tick, noteCommitted: (view, touched) => candidates.noteCommitted(view, touched) };
};
