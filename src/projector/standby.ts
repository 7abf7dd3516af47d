// A follower's warm view: loaded once from etcd at a checkpoint's revision, then kept current by
// folding the stream, never past the committed checkpoint. When this instance is elected, recovery
// starts from it, so failover costs the events since the last checkpoint, not a read of the view.
import type { JetStreamClient } from '@nats-io/jetstream';
import { evolve } from '../../projections/evolve.js';
import { viewFromEntries } from '../../projections/layout.js';
import { emptyView, type View } from '../../projections/view.js';
import type { ViewReader } from '../api/viewReader.js';
import type { ViewStore } from '../etcd/viewStore.js';
import { orderedConsumerFrom, storedEventOf } from '../nats/read.js';
import type { Logger } from '../observability/log.js';
import { delay } from '../util/waitFor.js';

export type Standby = {
  /** Stops following and returns the view (undefined if it never loaded). */
  readonly stop: () => Promise<View | undefined>;
};

const load = async (store: ViewStore): Promise<View> => {
  const checkpoint = await store.readCheckpoint();
  if (checkpoint === undefined) return emptyView();
  const entries = new Map<string, string>();
  for await (const { key, value } of store.scan({ revision: checkpoint.revision })) entries.set(key, value);
  return viewFromEntries(store.prefix, entries).view;
};

export const startStandby = (o: {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly store: ViewStore;
  readonly reader: ViewReader;
  readonly log: Logger;
}): Standby => {
  const stopping = new AbortController();
  let view: View | undefined;
  let close: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));

  const follow = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        view ??= await load(o.store);
        const consumer = await orderedConsumerFrom(o.js, o.stream, view.seq + 1);
        const messages = await consumer.consume({ max_messages: 1000, expires: 5000, idle_heartbeat: 1000 });
        close = () => void messages.close();
        if (stopping.signal.aborted) close();
        for await (const m of messages) {
          const stored = storedEventOf(m);
          // Never ahead of the checkpoint: the leader may not have committed this event yet.
          while (!stopping.signal.aborted && !(await Promise.race([o.reader.waitFor(stored.seq, Date.now() + 1000), stopped.then(() => false)]))) {
            // keep waiting for the leader
          }
          if (stopping.signal.aborted) break;
          if (stored.seq === view.seq + 1) view = evolve(view, stored);
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        o.log.debug({ err: error }, 'standby: following the stream failed; retrying');
        view = undefined;
        await delay(500);
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
