// Group commit of the projector's batches: at most one etcd commit in flight, and what is folded
// meanwhile becomes the next batch. Batches so size themselves to etcd's latency (one event when
// idle, up to batch_events under load) and the fold overlaps the round trip. Nothing here looks at
// how many messages a consumer holds: a decision on buffer counts once stalled after the last message.
import { writesFor, type KeyWrite } from '../../projections/layout.js';
import type { Touched } from '../../projections/draft.js';
import type { View } from '../../projections/view.js';
import { FencedError, type Fence } from '../etcd/fence.js';
import type { ViewStore } from '../etcd/viewStore.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { delay } from '../util/waitFor.js';

export type CommitsOptions = {
  readonly store: ViewStore;
  readonly fence: Fence;
  /** The view as stored (its checkpoint): batches start after it. */
  readonly view: View;
  /** Back-pressure: folding waits while a full batch is gathered behind the one in flight. */
  readonly batchEvents: number;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
  readonly signal: AbortSignal;
  readonly onCommitted?: ((view: View, touched: readonly Touched[]) => void) | undefined;
  /** A commit failed for good (fenced, or aborted): the caller stops folding. */
  readonly onFailure: () => void;
};

export type Commits = {
  /** Adds a fold step to the batch being gathered. */
  readonly add: (view: View, touched: readonly Touched[], eventId: string | undefined) => void;
  /** Distinct records in the batch being gathered. */
  readonly gatheredKeys: () => number;
  /** Commits what is gathered unless a commit is in flight; then what gathers meanwhile follows it. */
  readonly kick: () => void;
  /** Resolves once the caller may fold on (at once unless a full batch waits behind the one in flight). */
  readonly room: () => Promise<void>;
  /** Waits for the commit in flight, then starts committing what is gathered; no follow-up until the next kick. */
  readonly handOff: () => Promise<void>;
  /** Commits everything folded and waits; throws what made a commit fail. Stops early on abort. */
  readonly settle: () => Promise<void>;
  readonly failed: () => boolean;
};

type Batch = { readonly view: View; readonly from: number; readonly touched: readonly Touched[]; readonly eventId: string | undefined };

const SLICE = 5_000;

/**
 * writesFor, a slice of records at a time with the event loop served in between: a catch-up batch
 * of 500k records takes seconds to serialize, and lease keep-alives must not wait for it.
 */
export const writesInSlices = async (prefix: string, view: View, touched: readonly Touched[]): Promise<KeyWrite[]> => {
  if (touched.length <= SLICE) return writesFor(prefix, view, touched);
  const out: KeyWrite[] = [];
  for (let i = 0; i < touched.length; i += SLICE) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const w of writesFor(prefix, view, touched.slice(i, i + SLICE))) out.push(w);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
};

export const startCommits = (o: CommitsOptions): Commits => {
  let view = o.view;
  let committed = view.seq;
  /** The sequence the last batch was cut at: `committed` when no commit is in flight. */
  let cut = view.seq;
  let gathering = new Map<string, Touched>();
  let lastEventId: string | undefined;
  let inFlight: Promise<void> | undefined;
  let failure: { readonly error: unknown } | undefined;
  /** Whether a finished commit is followed at once by one of what gathered meanwhile. */
  let eager = true;

  const commit = async (batch: Batch): Promise<void> => {
    // Serialized now, while the batch's view is at hand; the fold goes on with newer views.
    const writes = await writesInSlices(o.store.prefix, batch.view, batch.touched);
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await o.store.commit(writes, o.fence, batch.from, batch.view.seq);
        if (result !== 'committed') {
          o.metrics?.txnFailures.inc({ reason: result });
          throw new FencedError(result);
        }
        break;
      } catch (error) {
        if (error instanceof FencedError || o.signal.aborted) throw error;
        o.log.warn({ err: error, attempt, seq: batch.view.seq }, 'etcd write failed; retrying');
        await delay(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)), o.signal);
        // Stopping gives up a batch that etcd keeps refusing: the next leader recovers from the checkpoint.
        o.signal.throwIfAborted();
      }
    }
    o.metrics?.batchSeconds.observe((performance.now() - started) / 1000);
    o.log.debug({ from: batch.from + 1, seq: batch.view.seq, events: batch.view.seq - batch.from, eventId: batch.eventId, keys: writes.length }, 'batch committed');
    committed = batch.view.seq;
    o.metrics?.checkpoint.set(committed);
    o.onCommitted?.(batch.view, batch.touched);
  };

  const start = (): void => {
    if (inFlight !== undefined || failure !== undefined || view.seq <= cut || o.signal.aborted) return;
    const batch: Batch = { view, from: cut, touched: [...gathering.values()], eventId: lastEventId };
    cut = view.seq;
    gathering = new Map();
    inFlight = commit(batch).then(
      () => {
        inFlight = undefined;
        if (eager) start();
      },
      (error: unknown) => {
        failure = { error };
        inFlight = undefined;
        o.onFailure();
      },
    );
  };

  return {
    add: (next, touched, eventId) => {
      view = next;
      lastEventId = eventId;
      for (const t of touched) gathering.set(`${t.collection}/${t.key}`, t);
    },
    gatheredKeys: () => gathering.size,
    kick: () => {
      eager = true;
      start();
    },
    room: async () => {
      while (inFlight !== undefined && view.seq - cut >= o.batchEvents) await inFlight;
    },
    handOff: async () => {
      eager = false;
      while (inFlight !== undefined) await inFlight;
      start();
    },
    settle: async () => {
      for (;;) {
        if (failure !== undefined) throw failure.error;
        if (inFlight !== undefined) await inFlight;
        else if (view.seq > committed && !o.signal.aborted) start();
        else return;
      }
    },
    failed: () => failure !== undefined,
  };
};
