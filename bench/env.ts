// The benchmark's servers and processes: a real nats-server and etcd on free loopback ports in a
// temp folder (src/stack/processes.ts), coordinators as child processes (src/main.ts), and what the
// bench reads back: the checkpoint in etcd, the leader, etcd's own write counters.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { Etcd3, Watcher } from 'etcd3';
import { pino } from 'pino';
import { checkpointKey } from '../projections/layout.js';
import { serviceClient, type ServiceName } from '../src/api/proto.js';
import { freePort } from '../src/stack/processes.js';
import { delay, waitFor } from '../src/util/waitFor.js';
import { call as unary } from '../test/support/grpcClient.js';
import { startServers, type Servers } from '../test/support/servers.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The coordinator children's entry point: src/main.ts, or a prototype's (bench --coordinator) for before/after. */
export const coordinatorEntry = { path: join(ROOT, 'src', 'main.ts') };
export const silent = pino({ level: 'silent' });

export type Stack = Omit<Servers, 'stop'> & { readonly stop: () => Promise<void> };

/** Configuration every coordinator of every stack gets (set from the command line by run.ts). */
export const benchEnv: Record<string, string> = {};

const liveDirs = new Set<string>();

export const startStack = async (name: string, overrides: Record<string, string> = {}): Promise<Stack> => {
  const servers = await startServers(`bench-${name}`, {
    // Regions in the bench do not heartbeat; keep the leader's health monitor quiet.
    JZSE_HEALTH_HEARTBEAT_INTERVAL: '1h',
    JZSE_HEALTH_OFFLINE_AFTER: '24h',
    // The raw servers are measured without auth; the coordinator too, until the bench issues tokens.
    JZSE_AUTH_ENABLED: 'false',
    ...benchEnv,
    ...overrides,
  }, silent);
  const { dir } = servers;
  liveDirs.add(dir);
  const children = new Set<Child>();
  stacks.set(dir, children);
  return {
    ...servers,
    stop: async () => {
      // SIGTERM: a clean exit, so --cpu-prof children write their profiles.
      for (const c of children) await c.kill('SIGTERM');
      stacks.delete(dir);
      const keep = process.env['JZSE_BENCH_KEEP'] !== undefined;
      await servers.stop({ keep });
      liveDirs.delete(dir);
      if (keep) process.stderr.write(`kept ${dir} (servers' and coordinators' logs)\n`);
    },
  };
};

// ---- coordinator children ----------------------------------------------------------------------

export type Child = {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly grpcPort: number;
  readonly log: string;
  readonly exited: Promise<void>;
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>;
};

const stacks = new Map<string, Set<Child>>();
const allChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of allChildren) c.kill('SIGKILL');
  if (process.env['JZSE_BENCH_KEEP'] !== undefined) return;
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a server still writing there: left for the OS to clean
    }
  }
});

/** A coordinator as its own OS process (src/main.ts), so it has its own event loop and can be SIGKILLed. */
export const spawnCoordinator = async (
  stack: Stack,
  id: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<Child> => {
  const grpcPort = await freePort();
  const log = join(stack.dir, `${id}.log`);
  const fd = openSync(log, 'a');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', coordinatorEntry.path], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env, JZSE_COORDINATOR_ID: id, JZSE_GRPC_PORT: String(grpcPort), ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  allChildren.add(proc);
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  void exited.then(() => allChildren.delete(proc));
  const child: Child = {
    id, proc, grpcPort, log, exited,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await Promise.race([exited, delay(15_000)]);
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGKILL');
          await exited;
        }
      }
      stacks.get(stack.dir)?.delete(child);
    },
  };
  stacks.get(stack.dir)?.add(child);
  return child;
};

/** Waits until the child answers gRPC calls (its API starts after NATS and etcd are reachable). */
export const waitServing = async (child: Child, timeoutMs = 60_000): Promise<void> => {
  const client = clientOf(child.grpcPort, 'RegionService');
  try {
    await waitFor(
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`coordinator ${child.id} exited with ${child.proc.exitCode}; see ${child.log}`);
        return (await unary(client, 'GetActiveRegions', { read: null }, 2000)).ok;
      },
      { timeoutMs, intervalMs: 100, what: `coordinator ${child.id} to serve gRPC` },
    );
  } finally {
    client.close();
  }
};

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export const cpuSeconds = (pid: number): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
};

/** Share of one core a child used over `ms` (NaN where /proc is not available). */
export const cpuShare = async (child: Child, ms: number): Promise<number> => {
  const pid = child.proc.pid;
  if (pid === undefined) return Number.NaN;
  const before = cpuSeconds(pid);
  const started = performance.now();
  await delay(ms);
  const after = cpuSeconds(pid);
  return before === undefined || after === undefined ? Number.NaN : (after - before) / ((performance.now() - started) / 1000);
};

/**
 * Waits until the children are idle (together under `share` of one core for `quietMs`), e.g. until
 * followers have loaded their warm views; a fixed pause where /proc is not available. Bounded.
 */
export const waitIdle = async (children: readonly Child[], { share = 0.2, quietMs = 1500, timeoutMs = 60_000 } = {}): Promise<boolean> => {
  const pids = children.flatMap((c) => (c.proc.pid === undefined ? [] : [c.proc.pid]));
  const total = () => pids.reduce((a, pid) => a + (cpuSeconds(pid) ?? Number.NaN), 0);
  if (Number.isNaN(total())) return delay(5000).then(() => true);
  const deadline = Date.now() + timeoutMs;
  let quietSince = Date.now();
  let last = total();
  while (Date.now() < deadline) {
    await delay(250);
    const now = total();
    if ((now - last) / 0.25 > share) quietSince = Date.now();
    last = now;
    if (Date.now() - quietSince >= quietMs) return true;
  }
  return false;
};

// ---- gRPC ----------------------------------------------------------------------------------------

export const clientOf = (port: number, service: ServiceName): grpc.Client =>
  new (serviceClient(service))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

export { healthClient as healthClientOf } from '../test/support/grpcClient.js';
export { unary };

// ---- etcd ----------------------------------------------------------------------------------------

export const readCheckpoint = async (etcd: Etcd3, prefix: string): Promise<number> => {
  const value = await etcd.get(checkpointKey(prefix)).string();
  return value === null ? 0 : (JSON.parse(value) as { seq: number }).seq;
};

/** Records every checkpoint the view reaches, as seen by a watcher: (time, seq) in order. */
export type CheckpointWatch = {
  readonly seen: Array<{ seq: number; at: number }>;
  readonly latest: () => number;
  /** Resolves when the checkpoint reaches `seq`; rejects after `timeoutMs`. */
  readonly reach: (seq: number, timeoutMs: number) => Promise<number>;
  readonly stop: () => Promise<void>;
};

export const watchCheckpoint = async (etcd: Etcd3, prefix: string): Promise<CheckpointWatch> => {
  const seen: Array<{ seq: number; at: number }> = [];
  let latest = 0;
  const waiters = new Set<{ seq: number; done: (at: number) => void }>();
  const advance = (seq: number, at: number): void => {
    if (seq <= latest) return;
    latest = seq;
    seen.push({ seq, at });
    for (const w of waiters) if (w.seq <= seq) w.done(at);
  };
  const watcher: Watcher = await etcd.watch().key(checkpointKey(prefix)).create();
  watcher.on('put', (kv) => advance((JSON.parse(kv.value.toString()) as { seq: number }).seq, performance.now()));
  advance(await readCheckpoint(etcd, prefix), performance.now());
  return {
    seen,
    latest: () => latest,
    reach: (seq, timeoutMs) =>
      seq <= latest
        ? Promise.resolve(performance.now())
        : new Promise<number>((done, fail) => {
            const waiter = {
              seq,
              done: (at: number) => {
                clearTimeout(timer);
                waiters.delete(waiter);
                done(at);
              },
            };
            const timer = setTimeout(() => {
              waiters.delete(waiter);
              fail(new Error(`checkpoint did not reach ${seq} within ${timeoutMs} ms (at ${latest})`));
            }, timeoutMs);
            waiters.add(waiter);
            // A put can land between the watch and the waiter: read once more.
            void readCheckpoint(etcd, prefix).then((s) => advance(s, performance.now()), () => undefined);
          }),
    stop: async () => {
      await watcher.cancel();
    },
  };
};

/** etcd's own counters (from its /metrics): keys put and deleted, transactions, database size. */
export type EtcdCounters = { puts: number; deletes: number; txns: number; dbBytes: number; dbInUseBytes: number };

export const etcdCounters = async (endpoint: string): Promise<EtcdCounters> => {
  const text = await (await fetch(`${endpoint}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const metric = (name: string): number => {
    const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
    return m === null ? Number.NaN : Number(m[1]);
  };
  return {
    puts: metric('etcd_mvcc_put_total'),
    deletes: metric('etcd_mvcc_delete_total'),
    txns: metric('etcd_mvcc_txn_total'),
    dbBytes: metric('etcd_mvcc_db_total_size_in_bytes'),
    dbInUseBytes: metric('etcd_mvcc_db_total_size_in_use_in_bytes'),
  };
};

/** Deletes every key under `prefix` and compacts etcd's history, so later runs start from a clean store. */
export const dropPrefix = async (etcd: Etcd3, prefix: string): Promise<void> => {
  await etcd.delete().prefix(prefix).exec();
  await compactNow(etcd);
};

export const compactNow = async (etcd: Etcd3): Promise<void> => {
  const revision = (await etcd.kv.range({ key: Buffer.from('jzse-bench-none') })).header.revision;
  await etcd.kv.compact({ revision, physical: true }).catch(() => undefined);
};

/** The id (candidate value) of the current projecting leader: the election key with the lowest create revision. */
export const leaderId = async (etcd: Etcd3, electionPrefix: string): Promise<string | undefined> => {
  const res = await etcd.kv.range({
    key: Buffer.from(electionPrefix),
    range_end: Buffer.from(`${electionPrefix.slice(0, -1)}${String.fromCharCode(electionPrefix.charCodeAt(electionPrefix.length - 1) + 1)}`),
    sort_order: 'Ascend',
    sort_target: 'Create',
    limit: 1,
  });
  return res.kvs[0]?.value.toString();
};

// ---- a coordinator's own metrics ----------------------------------------------------------------

/** Cumulative bucket counts of jzse_grpc_server_handling_seconds for one method (status OK), by upper bound in seconds. */
export type Buckets = Map<number, number>;

export const handlingBuckets = async (metricsPort: number, method: string): Promise<Buckets> => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('jzse_grpc_server_handling_seconds_bucket{') || !line.includes(`method="${method}"`) || !line.includes('code="OK"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le !== undefined) out.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(line.split(' ').pop()));
  }
  return out;
};

/** The bucket bound (ms) under which `q` of the calls between two scrapes fell: the server-side quantile, to bucket precision. */
export const quantileBetween = (before: Buckets, after: Buckets, q: number): number => {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = (b: number) => (after.get(b) ?? 0) - (before.get(b) ?? 0);
  const total = delta(Number.POSITIVE_INFINITY);
  const bound = bounds.find((b) => delta(b) >= q * total) ?? Number.POSITIVE_INFINITY;
  return bound * 1000;
};
