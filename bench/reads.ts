// Reads through the gRPC API under concurrent load: `concurrency` callers each issue calls back to
// back for `seconds`; every call's latency is recorded.
import type * as grpc from '@grpc/grpc-js';
import { unary } from './env.js';
import { Samples } from './stats.js';
import { fileIdOf } from './workload.js';
import { prng } from '../test/support/workload.js';

export type ReadRun = { readonly p50: number; readonly p99: number; readonly perSecond: number; readonly calls: number };

export const readLoad = async (
  client: grpc.Client,
  o: { method: 'Get' | 'BatchGet' | 'Check'; files: number; batch: number; concurrency: number; seconds: number; seed: number },
): Promise<ReadRun> => {
  const random = prng(o.seed);
  const latencies = new Samples();
  const until = performance.now() + o.seconds * 1000;
  const request = () =>
    o.method === 'Check'
      ? { service: '' }
      : o.method === 'Get'
      ? { file_id: fileIdOf(Math.floor(random() * o.files)), read: null }
      : (() => {
          // Distinct ids: a random start and a prime stride (files is never a multiple of it here).
          const start = Math.floor(random() * o.files);
          return { file_ids: Array.from({ length: Math.min(o.batch, o.files) }, (_, j) => fileIdOf((start + j * 7919) % o.files)), read: null };
        })();
  const started = performance.now();
  const caller = async (): Promise<void> => {
    // Bounded by time and by a call count no run can reach.
    for (let i = 0; i < 10_000_000 && performance.now() < until; i++) {
      const req = request();
      const t0 = performance.now();
      const reply = await unary<{ files?: unknown[]; missing?: string[] }>(client, o.method, req, 30_000);
      latencies.add(performance.now() - t0);
      if (!reply.ok) throw new Error(`${o.method} failed: ${reply.error.code} ${reply.error.details}`);
      if (o.method === 'BatchGet' && (reply.value.missing?.length ?? 0) > 0) throw new Error(`BatchGet: ${reply.value.missing?.length} ids missing`);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const [p50, p99] = latencies.percentiles(50, 99) as [number, number];
  return { p50, p99, perSecond: latencies.count / elapsed, calls: latencies.count };
};
