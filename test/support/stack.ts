// The test harness: a real nats-server and etcd on free ports in a temp folder, coordinators
// in-process or as child processes, and readers for what the stream and etcd hold.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { fold } from '../../projections/runner.js';
import { viewEntries } from '../../projections/layout.js';
import { emptyView, type View } from '../../projections/view.js';
import type { Config } from '../../src/config/schema.js';
import { viewPrefix } from '../../src/config/derived.js';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from '../../src/coordinator.js';
import { readEntries } from '../../src/nats/read.js';
import { ViewStore } from '../../src/etcd/viewStore.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { waitFor, withTimeout } from '../../src/util/waitFor.js';
import { startServers, type Servers } from './servers.js';

export const quietLog = pino({ level: process.env['JZSE_TEST_LOG'] ?? 'silent' });

export type Stack = Servers;

/** Keeps a stack's folder (server and coordinator logs) for a post-mortem; returns where. */
export const preserveForPostMortem = (stack: Stack): string => {
  const target = join(tmpdir(), `jzse-postmortem-${Date.now()}`);
  cpSync(stack.dir, target, { recursive: true });
  return target;
};

export const startStack = (overrides: Record<string, string> = {}): Promise<Stack> =>
  startServers('test', {
    JZSE_ETCD_LEASE_TTL: '2s',
    JZSE_GRPC_PORT: '0',
    JZSE_REST_PORT: '0',
    // Tests about other things must not see health verdicts or sync requests appear in their
    // stream once they stop publishing (on_demand: nothing is requested until asked).
    JZSE_SYNC_DEFAULT_STRATEGY: 'on_demand',
    JZSE_HEALTH_HEARTBEAT_INTERVAL: '1h',
    JZSE_HEALTH_OFFLINE_AFTER: '2h',
    // Tests about other things run without tokens; test/integration/access*.test.ts run with them.
    JZSE_AUTH_ENABLED: 'false',
    ...overrides,
  }, quietLog);

export const startInProcess = (stack: Stack, id: string, config: Partial<Config['projector']> = {}, metrics = createMetrics(), options: CoordinatorOptions = {}): Promise<Coordinator> =>
  startCoordinator(
    { ...stack.config, coordinator: { ...stack.config.coordinator, id }, projector: { ...stack.config.projector, ...config } },
    { natsUrl: stack.nats.url, etcd: [stack.etcd.endpoint] },
    quietLog,
    metrics,
    options,
  );

/** A coordinator as its own OS process (src/main.ts), so a test can SIGKILL it. */
export type ChildCoordinator = {
  readonly proc: ChildProcess;
  /** The exit code (null if killed by a signal), whenever it comes: await `exit()` instead. */
  readonly exited: Promise<number | null>;
  /** The exit code, or a rejection naming this coordinator if it has not exited within `timeoutMs`. */
  readonly exit: (timeoutMs?: number) => Promise<number | null>;
  readonly log: string;
};

export const spawnCoordinator = (stack: Stack, id: string, env: Record<string, string> = {}): ChildCoordinator => {
  const log = join(stack.dir, `${id}.log`);
  const fd = openSync(log, 'a');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...stack.env, JZSE_COORDINATOR_ID: id, JZSE_COORDINATOR_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // The default outlasts src/main.ts's own 30 s bound on a SIGTERM shutdown, so that one reports first.
  const exit = (timeoutMs = 45_000) => withTimeout(exited, timeoutMs, `coordinator ${id} (pid ${proc.pid}) to exit; its log: ${log}`);
  return { proc, exited, exit, log };
};

/** The stored events 1..toSeq folded from an empty view (default: up to the stream's end). */
export const foldStream = async (stack: Stack, toSeq?: number): Promise<View> => {
  let view = emptyView();
  const options = toSeq === undefined ? {} : { toSeq };
  for await (const batch of readEntries(stack.client.js, stack.client.jsm, stack.config.nats.stream, options)) view = fold(view, batch);
  return view;
};

/**
 * The view in etcd (one read, so consistent with its checkpoint) and what it must equal: the fold of
 * the stream up to that checkpoint. A leader may append its own events (a default policy, sync
 * records) at any time, so "the whole stream" is a moving target; the checkpoint is not.
 */
export const viewAndFold = async (stack: Stack): Promise<{ actual: Map<string, string>; expected: Map<string, string>; seq: number }> => {
  const actual = await readEtcdView(stack);
  const checkpoint = actual.get(`${viewPrefix(stack.config)}/checkpoint`);
  const seq = checkpoint === undefined ? 0 : (JSON.parse(checkpoint) as { seq: number }).seq;
  return { actual, expected: expectedEntries(stack, await foldStream(stack, seq)), seq };
};

/** The view's keys and values as etcd holds them now: paged, all pages at one revision. */
export const readEtcdView = async (stack: Stack): Promise<Map<string, string>> => {
  const store = new ViewStore(stack.etcdClient, viewPrefix(stack.config), { maxTxnOps: 1, maxTxnBytes: 1 });
  const entries = new Map<string, string>();
  for await (const { key, value } of store.scan()) entries.set(key, value);
  return entries;
};

export const expectedEntries = (stack: Stack, view: View): Map<string, string> => viewEntries(viewPrefix(stack.config), view);

export const checkpointOf = async (stack: Stack): Promise<number> => {
  const value = await stack.etcdClient.get(`${viewPrefix(stack.config)}/checkpoint`).string();
  return value === null ? 0 : (JSON.parse(value) as { seq: number }).seq;
};

export const streamLastSeq = async (stack: Stack): Promise<number> =>
  (await stack.client.jsm.streams.info(stack.config.nats.stream)).state.last_seq;

/** Waits until the checkpoint in etcd reaches the stream's last sequence (read afresh each time). */
export const waitForCaughtUp = async (stack: Stack, timeoutMs = 60_000): Promise<number> =>
  waitFor(async () => {
    const last = await streamLastSeq(stack);
    return (await checkpointOf(stack)) >= last ? last : undefined;
  }, { timeoutMs, what: 'the checkpoint to reach the end of the stream' });

/** Sorted-key object, for deepStrictEqual with a readable diff. */
export const asObject = (m: Map<string, string>): Record<string, unknown> =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, JSON.parse(v) as unknown]));

/** The candidate id of the current projecting leader (the election key with the lowest create revision). */
export const leaderOf = async (stack: Stack): Promise<string | undefined> => {
  const prefix = `${stack.config.etcd.prefix}/election/projector/`;
  const res = await stack.etcdClient.getAll().prefix(prefix).sort('Create', 'Ascend').limit(1).exec();
  return res.kvs[0]?.value.toString();
};
