// The chaos harness: 3 coordinator processes, simulated regions publishing continuously, and faults
// on a schedule (leader SIGKILL, leader SIGSTOP past its lease, nats-server and etcd SIGKILL +
// restart). With publishing stopped and the system quiet it checks what must hold.
import { createHash } from 'node:crypto';
import type { CoordinatorEvent } from '../../streams/events.js';
import { electionPrefix, fencingKey } from '../../src/config/derived.js';
import { delay, waitFor } from '../../src/util/waitFor.js';
import { auditFencing, type FencingAudit } from '../support/fencingAudit.js';
import { publishedIds } from '../support/streamIds.js';
import { appenderFor } from '../support/publish.js';
import {
  checkpointOf, leaderOf, preserveForPostMortem, spawnCoordinator, startStack, streamLastSeq, viewAndFold,
  type ChildCoordinator, type Stack,
} from '../support/stack.js';
import { createWorkload, regionRegistration } from '../support/workload.js';

export const FAULTS = ['kill-leader', 'pause-leader', 'restart-nats', 'kill-leader', 'restart-etcd'] as const;
export type Fault = (typeof FAULTS)[number];

export type ChaosOptions = {
  readonly durationMs: number;
  readonly regions?: number;
  readonly coordinators?: number;
  readonly leaseTtlMs?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
};

export type ChaosReport = {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly stored: number;
  readonly ackedMissing: string[];
  readonly storedTwice: string[];
  readonly storedNotPublished: string[];
  readonly viewDigest: string;
  readonly foldDigest: string;
  readonly checkpoint: number;
  readonly lastSeq: number;
  readonly fencing: FencingAudit;
  readonly faults: Array<{ fault: Fault; atMs: number; recoveredMs: number }>;
  readonly failoverMs: number[];
};

const digest = (entries: Map<string, string>): string => {
  const hash = createHash('sha256');
  for (const [k, v] of [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(`${k}\n${v}\n`);
  return hash.digest('hex');
};

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const runChaos = async (o: ChaosOptions): Promise<ChaosReport> => {
  const log = o.log ?? (() => undefined);
  const leaseTtlMs = o.leaseTtlMs ?? 2000;
  const stack: Stack = await startStack({ JZSE_ETCD_LEASE_TTL: `${leaseTtlMs}ms`, JZSE_PROJECTOR_BATCH_EVENTS: '200' });
  const ids = Array.from({ length: o.coordinators ?? 3 }, (_, i) => `c${i + 1}`);
  const procs = new Map<string, ChildCoordinator>(ids.map((id) => [id, spawnCoordinator(stack, id)]));
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let report: ChaosReport | undefined;
  try {
    await waitFor(async () => (await leaderOf(stack)) !== undefined, { what: 'a leader', timeoutMs: 30_000 });

    // Regions publish until told to stop; every attempt and every acknowledgement is recorded.
    const regions = Array.from({ length: o.regions ?? 3 }, (_, i) => `r${i + 1}`);
    const attempted = new Set<string>();
    const acked = new Map<string, number>();
    const appender = appenderFor(stack, 120_000);
    const publish = async (event: CoordinatorEvent): Promise<boolean> => {
      attempted.add(event.id);
      try {
        acked.set(event.id, (await appender.append(event)).seq);
        return true;
      } catch {
        return false;
      }
    };
    for (const [i, r] of regions.entries()) await publish(regionRegistration(r, i + 1));
    const workload = createWorkload(regions, Number.MAX_SAFE_INTEGER, o.seed ?? 1);
    const stopPublishing = new AbortController();
    const publishers = regions.map(async (r) => {
      while (!stopPublishing.signal.aborted) {
        const event = workload.next(r);
        if (event === undefined) return;
        if (await publish(event)) workload.stored(event);
        await delay(2);
      }
    });

    const projecting = async (what: string, after: number, notLeader?: string) =>
      waitFor(async () => {
        const leader = await leaderOf(stack).catch(() => undefined);
        return leader !== undefined && leader !== notLeader && (await checkpointOf(stack).catch(() => 0)) > after;
      }, { what, timeoutMs: 60_000, intervalMs: 20 });

    const leaderProc = async (): Promise<[string, ChildCoordinator]> => {
      const id = await waitFor(() => leaderOf(stack), { what: 'a leader', timeoutMs: 30_000 });
      const proc = procs.get(id);
      if (proc === undefined) throw new Error(`unknown leader ${id}`);
      return [id, proc];
    };

    const faults: ChaosReport['faults'] = [];
    const failoverMs: number[] = [];
    for (let i = 0; elapsed() < o.durationMs || i < FAULTS.length; i++) {
      const fault = FAULTS[i % FAULTS.length]!;
      await projecting('steady projection', await checkpointOf(stack));
      const at = elapsed();
      const t0 = Date.now();
      const checkpoint = await checkpointOf(stack);
      switch (fault) {
        case 'kill-leader': {
          const [id, proc] = await leaderProc();
          proc.proc.kill('SIGKILL');
          await proc.exit();
          await projecting(`a new leader after killing ${id}`, checkpoint, id);
          failoverMs.push(Date.now() - t0);
          procs.set(id, spawnCoordinator(stack, id));
          break;
        }
        case 'pause-leader': {
          const [id, proc] = await leaderProc();
          proc.proc.kill('SIGSTOP');
          await delay(leaseTtlMs + 1500);
          await projecting(`a new leader while ${id} is paused`, checkpoint, id);
          proc.proc.kill('SIGCONT');
          break;
        }
        case 'restart-nats':
          await stack.nats.restart();
          await projecting('projection after nats-server restart', checkpoint);
          break;
        case 'restart-etcd':
          await stack.etcd.restart();
          await projecting('projection after etcd restart', checkpoint);
          break;
      }
      faults.push({ fault, atMs: at, recoveredMs: Date.now() - t0 });
      log(`${(at / 1000).toFixed(1)}s ${fault}: recovered in ${Date.now() - t0} ms (acked ${acked.size})`);
    }

    stopPublishing.abort();
    await Promise.all(publishers);
    const lastSeq = await streamLastSeq(stack);
    await waitFor(async () => (await checkpointOf(stack)) >= lastSeq, { what: `checkpoint ${lastSeq}`, timeoutMs: 600_000, intervalMs: 250 });

    const counts = await publishedIds(stack);
    const consistent = await viewAndFold(stack);
    report = {
      attempted: attempted.size,
      acknowledged: acked.size,
      stored: counts.size,
      ackedMissing: [...acked.keys()].filter((id) => counts.get(id) === undefined),
      storedTwice: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
      storedNotPublished: [...counts.keys()].filter((id) => !attempted.has(id)),
      viewDigest: digest(consistent.actual),
      foldDigest: digest(consistent.expected),
      checkpoint: await checkpointOf(stack),
      lastSeq,
      fencing: await auditFencing(stack.etcdClient, fencingKey(stack.config), electionPrefix(stack.config)),
      faults,
      failoverMs,
    };
    return report;
  } finally {
    if (report === undefined || violations(report).length > 0) log(`logs kept for a post-mortem in ${preserveForPostMortem(stack)}`);
    for (const p of procs.values()) {
      p.proc.kill('SIGCONT');
      p.proc.kill('SIGKILL');
    }
    await Promise.all([...procs.values()].map((p) => p.exit()));
    await stack.stop();
  }
};

/** The invariants, as lines to print; empty means all hold. */
export const violations = (r: ChaosReport): string[] => [
  ...r.ackedMissing.slice(0, 5).map((id) => `acknowledged event ${id} is not in the stream`),
  ...r.storedTwice.slice(0, 5).map((id) => `event ${id} is stored more than once`),
  ...r.storedNotPublished.slice(0, 5).map((id) => `event ${id} is in the stream but was never published`),
  ...(r.viewDigest === r.foldDigest ? [] : [`view digest ${r.viewDigest} differs from the fold's ${r.foldDigest}`]),
  ...(r.checkpoint === r.lastSeq ? [] : [`checkpoint ${r.checkpoint} is not the last sequence ${r.lastSeq}`]),
  ...r.fencing.violations,
];

export const summary = (r: ChaosReport): string => {
  const f = r.failoverMs;
  return [
    `published ${r.attempted}, acknowledged ${r.acknowledged}, stored ${r.stored} (last sequence ${r.lastSeq})`,
    `acknowledged but missing: ${r.ackedMissing.length}; stored twice: ${r.storedTwice.length}; stored but never published: ${r.storedNotPublished.length}`,
    `view digest  ${r.viewDigest}`,
    `fold digest  ${r.foldDigest} ${r.viewDigest === r.foldDigest ? '(equal)' : '(DIFFERENT)'}`,
    `checkpoint ${r.checkpoint} / last sequence ${r.lastSeq}`,
    `fencing: ${r.fencing.commits} commits over ${r.fencing.terms} leadership terms, ${r.fencing.violations.length} by a deposed leader`,
    `faults: ${[...new Set(r.faults.map((x) => x.fault))].map((f) => `${f} ×${r.faults.filter((x) => x.fault === f).length}`).join(', ')}`,
    `failover after SIGKILL of the leader (ms): min ${Math.min(...f)} / median ${median(f)} / max ${Math.max(...f)} over ${f.length}`,
  ].join('\n');
};
