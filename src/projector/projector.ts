// The leader's loop: read the stream from the checkpoint, fold, write what changed to etcd.
// Batches are group-committed (commits.ts): the view trails the stream by about one etcd round trip.
// A leader starting far behind folds up to the stream's end in memory first and writes each record
// once, not once per batch it appears in.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Runner } from '../../projections/runner.js';
import type { Touched } from '../../projections/draft.js';
import type { LogEntry, View } from '../../projections/view.js';
import { FencedError, type Fence } from '../etcd/fence.js';
import type { ViewStore } from '../etcd/viewStore.js';
import { entryOfMessage, lastSequence, orderedConsumerFrom, readEntries } from '../nats/read.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { onAbort } from '../util/abort.js';
import { delay } from '../util/waitFor.js';
import { startCommits, type Commits } from './commits.js';
import { recoverView, type Replay } from './recovery.js';

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
  /** Called after a batch is committed, with what it changed, batch after batch in order. */
  readonly onCommitted?: (view: View, touched: readonly Touched[]) => void;
  /** Catching up, a batch is committed once it changes this many distinct records (bounds memory). */
  readonly catchUpKeys?: number;
  /**
   * Called, synchronously, as each await of the start-up resumes (and once on entry): where a stop()
   * can land. Tests abort there; in production it is unset.
   */
  readonly onAwaitPoint?: (point: StartUpPoint) => void;
};

/** The start-up's await points, in order ('caught-up' only when starting far behind). */
export const START_UP_POINTS = ['entered', 'tail-read', 'recovered', 'caught-up', 'consumer-created', 'consuming'] as const;
export type StartUpPoint = (typeof START_UP_POINTS)[number];

// Large enough that a backlog over a few hundred thousand records is written once per record (a
// replay's puts follow the records, not the events); bounded because one batch's serialized writes
// (~0.5 KB each) are held at once. Serializing yields between slices (commits.ts): done in one
// piece, a 300k-record batch blocked the leader past a 5 s lease, and having committed nothing it
// started over from zero, forever.
export const CATCH_UP_KEYS = 500_000;

export type ProjectorExit = 'deposed' | 'stopped';

/**
 * Projects until `signal` aborts (→ 'stopped') or leadership is lost (→ 'deposed'). An abort is seen
 * wherever it lands, before the call included: the signal is checked after every await, and each
 * listener goes through onAbort, which fires at once for an abort that came first.
 */
export const runProjector = async (o: ProjectorOptions, signal: AbortSignal): Promise<ProjectorExit> => {
  const { log, metrics } = o;
  /** Reports an await point; true if the projector must stop here. */
  const stopsAt = (point: StartUpPoint): boolean => {
    o.onAwaitPoint?.(point);
    return signal.aborted;
  };
  try {
    if (stopsAt('entered')) return 'stopped';
    const replay: Replay = (fromSeq, toSeq) => readEntries(o.js, o.jsm, o.stream, { fromSeq, toSeq });
    const tail = await lastSequence(o.jsm, o.stream);
    if (stopsAt('tail-read')) return 'stopped';
    const recovered = await recoverView(o.store, o.fence, replay, tail, log, metrics, o.warm, signal);
    if (stopsAt('recovered')) return 'stopped';
    let view = recovered.view;
    metrics?.checkpoint.set(view.seq);
    log.info({ checkpoint: view.seq, tail, repaired: recovered.repaired, rebuilt: recovered.rebuilt, warm: recovered.warm }, 'projector resumed');
    o.onView?.(view);

    let stopConsumer: (() => void) | undefined;
    const commits = startCommits({
      store: o.store, fence: o.fence, view, batchEvents: o.batchEvents, log, metrics, signal, onCommitted: o.onCommitted,
      onFailure: () => stopConsumer?.(),
    });
    // Cut after every entry: the group commit and the warm view need a persistent view per event.
    const runner = new Runner(view);
    const apply = (stored: LogEntry): void => {
      const verdict = runner.apply(stored);
      if (verdict === null) return;
      const cut = runner.cut();
      view = cut.view;
      commits.add(view, cut.touched, verdict.event?.id);
      const rejected = verdict.rejection !== null;
      metrics?.eventsProjected.inc({ outcome: rejected ? 'rejected' : 'applied' });
      if (rejected) log.warn({ seq: stored.seq, eventId: verdict.event?.id, subject: stored.subject, code: verdict.rejection?.code, field: verdict.rejection?.field }, 'event rejected');
      o.onView?.(view);
    };

    if (tail - view.seq > o.batchEvents) {
      log.info({ checkpoint: view.seq, tail }, 'catching up in memory before projecting live');
      await catchUp(replay, tail, () => view, apply, commits, o.catchUpKeys ?? CATCH_UP_KEYS, signal).catch((error: unknown) => {
        if (error instanceof FencedError || signal.aborted) throw error;
        log.warn({ err: error, seq: view.seq }, 'catching up failed; projecting live from here');
      });
      stopsAt('caught-up');
    }
    commits.kick();

    // After a reconnect the server may have lost our ephemeral consumer; resubscribing at once beats
    // waiting for missed heartbeats.
    let resubscribe: (() => void) | undefined;
    const status = o.nc.status()[Symbol.asyncIterator]();
    const endStatus = () => void status.return?.();
    const dropStatusListener = onAbort(signal, endStatus);
    try {
      void (async () => {
        for (let s = await status.next(); s.done !== true; s = await status.next()) {
          if (s.value.type === 'reconnect') resubscribe?.();
        }
      })();
      while (!signal.aborted && !commits.failed()) {
        try {
          const consumer = await orderedConsumerFrom(o.js, o.stream, view.seq + 1);
          if (stopsAt('consumer-created')) break;
          const messages = await consumer.consume({ max_messages: Math.min(o.batchEvents, 10_000), expires: 5000, idle_heartbeat: 1000 });
          stopsAt('consuming');
          const stop = () => void messages.close();
          resubscribe = stop;
          stopConsumer = stop;
          if (commits.failed()) stop();
          // Closes the consumer at once if the abort came during consume(): it would iterate forever.
          const dropStop = onAbort(signal, stop);
          try {
            for await (const m of messages) {
              const stored = entryOfMessage(m);
              if (stored.seq <= view.seq) continue;
              apply(stored);
              commits.kick();
              await commits.room();
            }
          } finally {
            dropStop();
          }
          if (!signal.aborted && !commits.failed()) log.warn({ seq: view.seq }, 'stream consumer ended; resubscribing');
        } catch (error) {
          if (error instanceof FencedError || signal.aborted) throw error;
          log.warn({ err: error, seq: view.seq }, 'stream consumer failed; resubscribing');
          await delay(250, signal);
        }
        // Also waits for the commit in flight when stopping: shutdown finishes the transaction it began.
        await commits.settle();
      }
    } finally {
      dropStatusListener();
      endStatus();
    }
    await commits.settle();
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

/**
 * Folds up to `toSeq` from the stream (the rebuild path: large fetches, no live consumer) and
 * commits a batch only once it holds `maxKeys` distinct records, while the next one is folded.
 */
const catchUp = async (
  replay: Replay, toSeq: number, view: () => View, apply: (stored: LogEntry) => void, commits: Commits, maxKeys: number, signal: AbortSignal,
): Promise<void> => {
  for await (const batch of replay(view().seq + 1, toSeq)) {
    for (const stored of batch) {
      if (stored.seq <= view().seq) continue;
      apply(stored);
      if (commits.gatheredKeys() >= maxKeys) await commits.handOff();
    }
    if (signal.aborted || commits.failed()) return;
  }
};
