// End-to-end ingest: changes per second from the first publish until the view in etcd has the
// last one (checkpoint ≥ its sequence), straight onto NATS or through the gRPC API, and the
// projection lag at a fixed rate.
import type * as grpc from '@grpc/grpc-js';
import type { JetStreamClient } from '@nats-io/jetstream';
import { delay } from '../src/util/waitFor.js';
import type { CheckpointWatch } from './env.js';
import { unary } from './env.js';
import { windowed } from './raw.js';
import { lagsOf } from './stats.js';
import type { Encoded } from './workload.js';

/** Sends one change and resolves with the stream sequence it was stored at. */
export type Sender<T> = (item: T) => Promise<number>;

export const natsSender =
  (js: JetStreamClient, stream: string): Sender<Encoded> =>
  async (m) =>
    (await js.publish(m.subject, m.data, { msgID: m.id, expect: { streamName: stream }, timeout: 30_000 })).seq;

export const grpcSender =
  (client: grpc.Client): Sender<Record<string, unknown>> =>
  async (request) => {
    const reply = await unary<{ write: { sequence: string } }>(client, 'HandleChange', request, 30_000);
    if (!reply.ok) throw new Error(`HandleChange failed: ${reply.error.code} ${reply.error.details}`);
    return Number(reply.value.write.sequence);
  };

export type MaxRate = { readonly rate: number; readonly sendRate: number; readonly lastSeq: number };

/** Sends everything with `window` in flight, then waits for the view; rate = items / (view done − first send). */
export const maxRate = async <T>(items: readonly T[], window: number, send: Sender<T>, watch: CheckpointWatch, timeoutMs: number): Promise<MaxRate> => {
  let lastSeq = 0;
  const started = performance.now();
  await windowed(items.length, window, async (i) => {
    const seq = await send(items[i] as T);
    if (seq > lastSeq) lastSeq = seq;
  });
  const sent = performance.now();
  const done = await watch.reach(lastSeq, timeoutMs);
  return {
    rate: items.length / ((Math.max(done, sent) - started) / 1000),
    sendRate: items.length / ((sent - started) / 1000),
    lastSeq,
  };
};

export type LagRun = { readonly p50: number; readonly p99: number; readonly max: number; readonly achievedRate: number; readonly samples: number };

/**
 * Sends `items` at `rate` per second (paced every 2 ms, never more than `maxInFlight` outstanding),
 * records each send time and sequence, then the first time the watched checkpoint covered it.
 */
export const lagAtRate = async <T>(
  items: readonly T[],
  rate: number,
  send: Sender<T>,
  watch: CheckpointWatch,
  maxInFlight = 2000,
  timeoutMs = 120_000,
): Promise<LagRun> => {
  const published: Array<{ seq: number; at: number }> = [];
  const firstSeen = watch.seen.length;
  let inFlight = 0;
  let sent = 0;
  let failed: unknown;
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  const deadline = started + (items.length / rate) * 1000 * 3 + 10_000;
  while (sent < items.length && performance.now() < deadline && failed === undefined) {
    const due = Math.min(items.length, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due && inFlight < maxInFlight) {
      const item = items[sent] as T;
      sent++;
      inFlight++;
      const at = performance.now();
      pending.push(
        send(item).then(
          (seq) => {
            published.push({ seq, at });
            inFlight--;
          },
          (error: unknown) => {
            failed = error;
            inFlight--;
          },
        ),
      );
    }
    await delay(2);
  }
  await Promise.all(pending);
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error(`send failed: ${JSON.stringify(failed)}`);
  const elapsed = (performance.now() - started) / 1000;
  const lastSeq = published.reduce((m, p) => Math.max(m, p.seq), 0);
  await watch.reach(lastSeq, timeoutMs);
  const { lags } = lagsOf(published, watch.seen.slice(Math.max(0, firstSeen - 1)));
  const [p50, p99, max] = lags.percentiles(50, 99, 100) as [number, number, number];
  return { p50, p99, max, achievedRate: published.length / elapsed, samples: lags.count };
};
