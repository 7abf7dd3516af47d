// Replay: fold the whole stream into a fresh view in memory (the path a rebuild takes), then write
// that view into etcd, each distinct key once, and count the etcd writes it needed.
import { fold } from '../projections/runner.js';
import { viewEntries, type KeyWrite } from '../projections/layout.js';
import { emptyView, type View } from '../projections/view.js';
import { ViewStore, type Fence } from '../src/etcd/viewStore.js';
import { readEntries } from '../src/nats/read.js';
import type { Stack } from './env.js';
import { etcdCounters } from './env.js';

export type InMemory = { readonly rate: number; readonly seconds: number; readonly view: View; readonly events: number };

/** Every stored event folded from an empty view with the coordinator's own reader (ordered consumer, fetch 10,000). */
export const replayInMemory = async (stack: Stack, toSeq?: number): Promise<InMemory> => {
  const started = performance.now();
  let view = emptyView();
  let events = 0;
  for await (const batch of readEntries(stack.client.js, stack.client.jsm, stack.config.nats.stream, toSeq === undefined ? {} : { toSeq })) {
    view = fold(view, batch);
    events += batch.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { rate: events / seconds, seconds, view, events };
};

export type Written = {
  readonly seconds: number;
  readonly keys: number;
  readonly puts: number;
  readonly txns: number;
  /** Growth of etcd's database in use (bbolt pages holding the new keys' first revision). */
  readonly dbBytes: number;
  readonly valueBytes: number;
};

/** Writes a whole view under `prefix` with the projector's own store: fenced transactions, checkpoint last. */
export const writeView = async (stack: Stack, prefix: string, fence: Fence, view: View): Promise<Written> => {
  const store = new ViewStore(stack.etcdClient, prefix, {
    maxTxnOps: stack.config.projector.max_txn_ops,
    maxTxnBytes: stack.config.projector.max_txn_bytes,
  });
  const writes: KeyWrite[] = [];
  for (const [key, value] of viewEntries(prefix, view)) if (!key.endsWith('/checkpoint')) writes.push({ key, value });
  const before = await etcdCounters(stack.etcd.endpoint);
  const started = performance.now();
  const result = await store.commit(writes, fence, 0, view.seq);
  if (result !== 'committed') throw new Error(`writing the replayed view: ${result}`);
  const seconds = (performance.now() - started) / 1000;
  const after = await etcdCounters(stack.etcd.endpoint);
  const valueBytes = writes.reduce((a, w) => a + w.key.length + (w.value?.length ?? 0), 0);
  return { seconds, keys: writes.length + 1, puts: after.puts - before.puts, txns: after.txns - before.txns, dbBytes: after.dbInUseBytes - before.dbInUseBytes, valueBytes };
};
