// The leader's loop: read the stream from the checkpoint, fold, write what changed to etcd.
// A batch is flushed when it is full or when the consumer has nothing more pending, so the view
// trails the stream by one batch under load and by one event when idle.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { step } from '../../projections/evolve.js';
import { writesFor } from '../../projections/layout.js';
import type { Touched } from '../../projections/draft.js';
import type { View } from '../../projections/view.js';
import type { Fence, ViewStore } from '../etcd/viewStore.js';
import { lastSequence, orderedConsumerFrom, readStream, storedEventOf } from '../nats/read.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { delay } from '../util/waitFor.js';
import { FencedError, recoverView } from './recovery.js';

export type ProjectorOptions = {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly store: ViewStore;
  readonly fence: Fence;
  readonly batchEvents: number;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** A follower's view at or below the checkpoint (see standby.ts): recovery starts from it. */
  readonly warm?: View;
  /** Called with the view after recovery and after each fold step (before the batch is written). */
  readonly onView?: (view: View) => void;
  /** Called after a batch is committed, with what it changed. */
  readonly onCommitted?: (view: View, touched: readonly Touched[]) => void;
};

export type ProjectorExit = 'deposed' | 'stopped';

/** Projects until `signal` aborts (→ 'stopped') or leadership is lost (→ 'deposed'). */
export const runProjector = async (o: ProjectorOptions, signal: AbortSignal): Promise<ProjectorExit> => {
  const { log, metrics } = o;
  try {
    const replay = (fromSeq: number, toSeq: number) => readStream(o.js, o.jsm, o.stream, { fromSeq, toSeq });
    const recovered = await recoverView(o.store, o.fence, replay, await lastSequence(o.jsm, o.stream), log, metrics, o.warm);
    let view = recovered.view;
    let committed = view.seq;
    metrics?.checkpoint.set(committed);
    log.info({ checkpoint: committed, repaired: recovered.repaired, rebuilt: recovered.rebuilt, warm: recovered.warm }, 'projector resumed');
    o.onView?.(view);

    const flush = async (touched: Map<string, Touched>, lastEventId: string | undefined): Promise<void> => {
      const writes = writesFor(o.store.prefix, view, touched.values());
      const started = performance.now();
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await o.store.commit(writes, o.fence, committed, view.seq);
          if (result !== 'committed') {
            metrics?.txnFailures.inc({ reason: result });
            throw new FencedError(result);
          }
          break;
        } catch (error) {
          if (error instanceof FencedError || signal.aborted) throw error;
          log.warn({ err: error, attempt, seq: view.seq }, 'etcd write failed; retrying');
          await delay(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)));
        }
      }
      metrics?.batchSeconds.observe((performance.now() - started) / 1000);
      log.debug({ from: committed + 1, seq: view.seq, eventId: lastEventId, keys: writes.length }, 'batch committed');
      committed = view.seq;
      metrics?.checkpoint.set(committed);
      o.onCommitted?.(view, [...touched.values()]);
      touched.clear();
    };

    const touched = new Map<string, Touched>();
    let lastEventId: string | undefined;
    // After a reconnect the server may have lost our ephemeral consumer; resubscribing at once beats
    // waiting for missed heartbeats.
    let resubscribe: (() => void) | undefined;
    const status = o.nc.status()[Symbol.asyncIterator]();
    void (async () => {
      for (let s = await status.next(); s.done !== true; s = await status.next()) {
        if (s.value.type === 'reconnect') resubscribe?.();
      }
    })();
    signal.addEventListener('abort', () => void status.return?.(), { once: true });
    while (!signal.aborted) {
      try {
        const consumer = await orderedConsumerFrom(o.js, o.stream, view.seq + 1);
        const messages = await consumer.consume({ max_messages: Math.min(o.batchEvents, 10_000), expires: 5000, idle_heartbeat: 1000 });
        const stop = () => void messages.close();
        resubscribe = stop;
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const m of messages) {
            const stored = storedEventOf(m);
            if (stored.seq <= view.seq) continue;
            const result = step(view, stored);
            view = result.view;
            for (const t of result.touched) touched.set(`${t.collection}/${t.key}`, t);
            lastEventId = result.event?.id;
            const rejected = result.touched.some((t) => t.collection === 'rejected');
            metrics?.eventsProjected.inc({ outcome: rejected ? 'rejected' : 'applied' });
            if (rejected) log.warn({ seq: stored.seq, eventId: lastEventId, subject: stored.subject }, 'event rejected');
            o.onView?.(view);
            // Flush when the batch is full, or when nothing else is waiting: the server says so
            // (pending 0) or we hold no further received message (the server's count can lag).
            if (m.info.pending === 0 || messages.getPending() === 0 || view.seq - committed >= o.batchEvents) {
              await flush(touched, lastEventId);
            }
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
        if (!signal.aborted) log.warn({ seq: view.seq }, 'stream consumer ended; resubscribing');
      } catch (error) {
        if (error instanceof FencedError || signal.aborted) throw error;
        log.warn({ err: error, seq: view.seq }, 'stream consumer failed; resubscribing');
        await delay(250);
      }
      if (view.seq > committed && !signal.aborted) await flush(touched, lastEventId);
    }
    void status.return?.();
    return 'stopped';
  } catch (error) {
    if (signal.aborted) return 'stopped';
    if (error instanceof FencedError) {
      log.warn({ err: error.message }, 'projector deposed');
      return 'deposed';
    }
    throw error;
  }
};
