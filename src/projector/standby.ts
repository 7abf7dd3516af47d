// A follower's warm view: loaded once from etcd at a checkpoint's revision, then kept current by
// folding the stream, never past the committed checkpoint. When this instance is elected, recovery
// starts from it, so failover costs the events since the last checkpoint, not a read of the view.
// Every view it holds is committed, so the API may serve reads from it.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Map as IMap } from 'immutable';
import { evolveView } from '../../projections/runner.js';
import { viewFromEntries } from '../../projections/layout.js';
import { COLLECTIONS, emptyView, type Collection, type View } from '../../projections/view.js';
import type { ViewReader } from '../etcd/viewReader.js';
import type { ViewStore } from '../etcd/viewStore.js';
import { entryOfMessage, orderedConsumerFrom } from '../nats/read.js';
import type { Logger } from '../observability/log.js';
import { whenAborted } from '../util/abort.js';
import { delay } from '../util/waitFor.js';

export type Standby = {
  /** Stops following and returns the view (undefined if it never loaded). */
  readonly stop: () => Promise<View | undefined>;
};

const PAGE_KEYS = 2000;
// Keep-alives of a 2 s lease are due every ~0.7 s: never hold the event loop near that long.
const TURN_MS = 20;

/**
 * The view at the checkpoint's revision, parsed a page at a time with a turn of the event loop in
 * between: parsing a large view in one go blocks lease keep-alives past a short lease.
 */
const load = async (store: ViewStore): Promise<View> => {
  const checkpoint = await store.readCheckpoint();
  if (checkpoint === undefined) return emptyView();
  const maps = new Map(COLLECTIONS.map((c) => [c, IMap<string, unknown>().asMutable()]));
  let page: Array<[string, string]> = [];
  const absorb = async (): Promise<void> => {
    const { view } = viewFromEntries(store.prefix, page);
    for (const c of COLLECTIONS) maps.set(c, maps.get(c)!.merge(view[c] as IMap<string, unknown>));
    page = [];
    await nextTurn();
  };
  for await (const { key, value } of store.scan({ revision: checkpoint.revision })) {
    page.push([key, value]);
    if (page.length >= PAGE_KEYS) await absorb();
  }
  await absorb();
  const collections = Object.fromEntries(COLLECTIONS.map((c) => [c, maps.get(c)!.asImmutable()])) as Record<Collection, IMap<string, unknown>>;
  return { ...emptyView(), ...(collections as Omit<View, 'seq'>), seq: checkpoint.seq };
};

export const startStandby = (o: {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly store: ViewStore;
  readonly reader: ViewReader;
  readonly log: Logger;
  /** A committed view this process already holds (a lost term's last batch): no reload from etcd. */
  readonly from?: View;
  /** Called with each view it holds, all committed. */
  readonly onView?: (view: View) => void;
}): Standby => {
  const stopping = new AbortController();
  let view: View | undefined = o.from;
  let close: (() => void) | undefined;
  const { aborted: stopped } = whenAborted(stopping.signal);

  const follow = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        if (view === undefined) {
          const started = performance.now();
          view = await load(o.store);
          o.log.info({ seq: view.seq, files: view.files.size, ms: Math.round(performance.now() - started) }, 'standby: warm view loaded from etcd');
          o.onView?.(view);
        }
        const consumer = await orderedConsumerFrom(o.js, o.stream, view.seq + 1);
        const messages = await consumer.consume({ max_messages: 1000, expires: 5000, idle_heartbeat: 1000 });
        close = () => void messages.close();
        if (stopping.signal.aborted) close();
        let turn = performance.now();
        for await (const m of messages) {
          const stored = entryOfMessage(m);
          // Never ahead of the checkpoint: the leader may not have committed this event yet.
          while (!stopping.signal.aborted && !(await Promise.race([o.reader.waitFor(stored.seq, Date.now() + 1000), stopped.then(() => false)]))) {
            // keep waiting for the leader
          }
          if (stopping.signal.aborted) break;
          if (stored.seq === view.seq + 1) {
            view = evolveView(view, stored).view;
            o.onView?.(view);
          }
          // Buffered messages are handed over in microtasks: catching up must let timers run too.
          if (performance.now() - turn > TURN_MS) {
            await nextTurn();
            turn = performance.now();
          }
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        // The view stays: it is a fold of committed events, and following resumes after it.
        o.log.debug({ err: error }, 'standby: following the stream failed; retrying');
        await delay(500, stopping.signal);
      }
    }
  };
  const running = follow();
  return {
    stop: async () => {
      stopping.abort();
      close?.();
      await running;
      return view;
    },
  };
};
