// Reads through the gRPC API under concurrent load. Two ways:
// - closed loop (no `rate`): `concurrency` callers each issue calls back to back; this finds the
//   maximum throughput, and its latencies are mostly queueing (latency ≈ concurrency / throughput);
// - paced (`rate` calls/s): calls are scheduled at a fixed rate and served by at most `concurrency`
//   callers; a call that had to wait for a free caller is timed from when it was due, so a slow
//   server cannot hide its backlog (no coordinated omission).
import type * as grpc from '@grpc/grpc-js';
import { unary } from './env.js';
import { Samples } from './stats.js';
import { fileIdOf } from './workload.js';
import { prng } from '../test/support/workload.js';
import { delay } from '../src/util/waitFor.js';

export type ReadRun = { readonly p50: number; readonly p99: number; readonly perSecond: number; readonly calls: number };

export type ReadLoad = {
  method: 'Get' | 'BatchGet' | 'Check';
  files: number;
  batch: number;
  concurrency: number;
  seconds: number;
  seed: number;
  /** Calls per second (paced); absent: closed loop. */
  rate?: number;
};

const requestMaker = (o: ReadLoad): (() => unknown) => {
  const random = prng(o.seed);
  if (o.method === 'Check') return () => ({ service: '' });
  if (o.method === 'Get') return () => ({ file_id: fileIdOf(Math.floor(random() * o.files)), read: null });
  return () => {
    // Distinct ids: a random start and a prime stride (files is never a multiple of it here).
    const start = Math.floor(random() * o.files);
    return { file_ids: Array.from({ length: Math.min(o.batch, o.files) }, (_, j) => fileIdOf((start + j * 7919) % o.files)), read: null };
  };
};

export const readLoad = async (client: grpc.Client, o: ReadLoad): Promise<ReadRun> => {
  const request = requestMaker(o);
  const latencies = new Samples();
  const started = performance.now();
  const until = started + o.seconds * 1000;
  let slot = 0;
  const call = async (req: unknown, from: number): Promise<void> => {
    const reply = await unary<{ files?: unknown[]; missing?: string[] }>(client, o.method, req, 30_000);
    latencies.add(performance.now() - from);
    if (!reply.ok) throw new Error(`${o.method} failed: ${reply.error.code} ${reply.error.details}`);
    if (o.method === 'BatchGet' && (reply.value.missing?.length ?? 0) > 0) throw new Error(`BatchGet: ${reply.value.missing?.length} ids missing`);
  };
  const caller = async (): Promise<void> => {
    // Bounded by time and by a call count no run can reach.
    for (let i = 0; i < 10_000_000 && performance.now() < until; i++) {
      if (o.rate === undefined) {
        await call(request(), performance.now());
        continue;
      }
      const due = started + (slot++ * 1000) / o.rate;
      if (due >= until) return;
      const free = performance.now();
      // Free before the call was due: timed from when it is actually sent (timer slack is ours).
      // Free after it was due: it queued behind earlier calls, and that wait counts.
      if (due > free) await delay(due - free);
      const req = request();
      await call(req, due > free ? performance.now() : due);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const [p50, p99] = latencies.percentiles(50, 99) as [number, number];
  return { p50, p99, perSecond: latencies.count / elapsed, calls: latencies.count };
};
