// The raw limits: JetStream publish and consume with our message size, etcd writes in batched
// transactions, and the naive projector's etcd path (one transaction per change).
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { Etcd3 } from 'etcd3';
import type { IRequestOp } from 'etcd3/lib/rpc.js';
import { stepStored as step } from '../test/support/events.js';
import { canonicalJson, checkpointKey, writesFor } from '../projections/layout.js';
import { emptyView, type StoredEvent, type View } from '../projections/view.js';
import type { Encoded } from './workload.js';

/** Runs `task(i)` for i in [0, n) with at most `window` in flight. Bounded: n tasks. */
export const windowed = async (n: number, window: number, task: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
};

/** Publishes with Nats-Msg-Id and expected stream, as the appender and regions do; returns msg/s. */
export const publishRate = async (
  js: JetStreamClient,
  stream: string,
  messages: readonly Encoded[],
  window: number,
  onAck?: (i: number, seq: number) => void,
): Promise<number> => {
  const started = performance.now();
  await windowed(messages.length, window, async (i) => {
    const m = messages[i] as Encoded;
    const ack = await js.publish(m.subject, m.data, { msgID: m.id, expect: { streamName: stream }, timeout: 30_000 });
    onAck?.(i, ack.seq);
  });
  return messages.length / ((performance.now() - started) / 1000);
};

/** Reads `count` messages from `fromSeq` with an ordered consumer in fetches of `batch`; returns msg/s. */
export const consumeRate = async (js: JetStreamClient, stream: string, fromSeq: number, count: number, batch = 10_000): Promise<number> => {
  const started = performance.now();
  const consumer = await js.consumers.get(
    stream,
    fromSeq <= 1 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq },
  );
  let seen = 0;
  let bytes = 0;
  for (let fetches = 0; seen < count && fetches < count + 10; fetches++) {
    const messages = await consumer.fetch({ max_messages: Math.min(batch, count - seen), expires: 5000 });
    for await (const m of messages) {
      bytes += m.data.length;
      seen++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await consumer.delete().catch(() => undefined);
  if (seen < count || bytes === 0) throw new Error(`consumed ${seen} of ${count} messages`);
  return seen / seconds;
};

/** `keys` puts of `valueBytes` each in transactions of `opsPerTxn`, `window` transactions in flight; returns keys/s. */
export const etcdBatchedRate = async (
  etcd: Etcd3,
  prefix: string,
  keys: number,
  valueBytes: number,
  opsPerTxn: number,
  window: number,
): Promise<number> => {
  const value = Buffer.from('x'.repeat(valueBytes));
  const txns = Math.ceil(keys / opsPerTxn);
  const started = performance.now();
  await windowed(txns, window, async (t) => {
    const success: IRequestOp[] = [];
    for (let k = t * opsPerTxn; k < Math.min(keys, (t + 1) * opsPerTxn); k++) {
      success.push({ request_put: { key: Buffer.from(`${prefix}/files/file-${String(k).padStart(8, '0')}`), value } });
    }
    const res = await etcd.kv.txn({ compare: [], success });
    if (!res.succeeded) throw new Error('plain etcd transaction failed');
  });
  return keys / ((performance.now() - started) / 1000);
};

/**
 * The naive projector a user might write: for each event, fold it and commit what it touched plus
 * the checkpoint in one transaction that compares the previous checkpoint. Sequential, because the
 * checkpoint orders them. Only the etcd and fold part is timed (no NATS), so this is an upper bound
 * of that design. Returns changes/s (the region registrations before them are not counted).
 */
export const naiveRate = async (
  etcd: Etcd3,
  prefix: string,
  setup: readonly Encoded[],
  changes: readonly Encoded[],
): Promise<{ rate: number; keysPerChange: number }> => {
  let view: View = emptyView();
  let seq = 0;
  let keys = 0;
  const commitOne = async (m: Encoded): Promise<void> => {
    seq += 1;
    const stored: StoredEvent = { seq, subject: m.subject, storedAt: new Date().toISOString(), data: m.data };
    const result = step(view, stored);
    view = result.view;
    const writes = writesFor(prefix, view, result.touched);
    keys += writes.length;
    const ops: IRequestOp[] = writes.map((w) =>
      w.value === null ? { request_delete_range: { key: Buffer.from(w.key) } } : { request_put: { key: Buffer.from(w.key), value: Buffer.from(w.value) } },
    );
    ops.push({ request_put: { key: Buffer.from(checkpointKey(prefix)), value: Buffer.from(canonicalJson({ seq })) } });
    const key = Buffer.from(checkpointKey(prefix));
    const compare =
      seq === 1
        ? [{ key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }]
        : [{ key, target: 'Value' as const, result: 'Equal' as const, value: Buffer.from(canonicalJson({ seq: seq - 1 })) }];
    const res = await etcd.kv.txn({ compare, success: ops });
    if (!res.succeeded) throw new Error('naive transaction refused');
  };
  for (const m of setup) await commitOne(m);
  keys = 0;
  const started = performance.now();
  for (const m of changes) await commitOne(m);
  const rate = changes.length / ((performance.now() - started) / 1000);
  return { rate, keysPerChange: keys / changes.length };
};
