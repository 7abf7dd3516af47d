// The test harness: a real nats-server and etcd on free ports in a temp folder, coordinators
// in-process or as child processes, and readers for what the stream and etcd hold.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { fold } from '../../projections/evolve.js';
import { viewEntries } from '../../projections/layout.js';
import { emptyView, type View } from '../../projections/view.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { connectEtcd, startCoordinator, viewPrefix, type Coordinator } from '../../src/coordinator.js';
import { connectNats, type Nats } from '../../src/nats/connection.js';
import { readStream } from '../../src/nats/read.js';
import { ensureEventStream, streamSettings } from '../../src/nats/stream.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startEtcd, startNatsServer, type EtcdServer, type NatsServer } from '../../src/stack/processes.js';
import { waitFor } from '../../src/util/waitFor.js';

export const quietLog = pino({ level: process.env['JZSE_TEST_LOG'] ?? 'silent' });

export type Stack = {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly etcd: EtcdServer;
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly client: Nats;
  readonly etcdClient: ReturnType<typeof connectEtcd>;
  readonly stop: () => Promise<void>;
};

/** Keeps a stack's folder (server and coordinator logs) for a post-mortem; returns where. */
export const preserveForPostMortem = (stack: Stack): string => {
  const target = join(tmpdir(), `jzse-postmortem-${Date.now()}`);
  cpSync(stack.dir, target, { recursive: true });
  return target;
};

export const startStack = async (overrides: Record<string, string> = {}): Promise<Stack> => {
  const dir = mkdtempSync(join(tmpdir(), 'jzse-test-'));
  const nats = await startNatsServer(join(dir, 'nats'));
  const etcd = await startEtcd(join(dir, 'etcd'));
  const env: Record<string, string> = {
    JZSE_NATS_URL: nats.url,
    JZSE_ETCD_ENDPOINTS: etcd.endpoint,
    JZSE_ETCD_LEASE_TTL: '2s',
    JZSE_COORDINATOR_METRICS_PORT: '0',
    JZSE_GRPC_PORT: '0',
    // Tests about other things must not see health verdicts appear in their stream.
    JZSE_HEALTH_HEARTBEAT_INTERVAL: '1h',
    JZSE_HEALTH_OFFLINE_AFTER: '2h',
    JZSE_COORDINATOR_DATA_DIR: join(dir, 'data'),
    ...overrides,
  };
  const loaded = loadConfig({ ...env, JZSE_CONFIG: undefined }, join(dir, 'none.yaml'));
  if (E.isLeft(loaded)) throw new Error(loaded.left.join('\n'));
  const config = loaded.right.config;
  const client = await connectNats(nats.url, 'test-client');
  await ensureEventStream(client.jsm, streamSettings(config), quietLog);
  const etcdClient = connectEtcd(config);
  return {
    dir, nats, etcd, env, config, client, etcdClient,
    stop: async () => {
      await client.nc.close().catch(() => undefined);
      etcdClient.close();
      await nats.stop();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const startInProcess = (stack: Stack, id: string, config: Partial<Config['projector']> = {}): Promise<Coordinator> =>
  startCoordinator(
    { ...stack.config, coordinator: { ...stack.config.coordinator, id }, projector: { ...stack.config.projector, ...config } },
    { natsUrl: stack.nats.url, etcd: [stack.etcd.endpoint] },
    quietLog,
    createMetrics(),
  );

/** A coordinator as its own OS process (src/main.ts), so a test can SIGKILL it. */
export type ChildCoordinator = { readonly proc: ChildProcess; readonly exited: Promise<number | null>; readonly log: string };

export const spawnCoordinator = (stack: Stack, id: string, env: Record<string, string> = {}): ChildCoordinator => {
  const log = join(stack.dir, `${id}.log`);
  const fd = openSync(log, 'a');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...stack.env, JZSE_COORDINATOR_ID: id, JZSE_COORDINATOR_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited, log };
};

/** Every stored event folded from an empty view: what the view must equal. */
export const foldStream = async (stack: Stack): Promise<View> => {
  let view = emptyView();
  for await (const batch of readStream(stack.client.js, stack.client.jsm, stack.config.nats.stream)) view = fold(view, batch);
  return view;
};

/** The view's keys and values as etcd holds them now. */
export const readEtcdView = async (stack: Stack): Promise<Map<string, string>> => {
  const kvs = await stack.etcdClient.getAll().prefix(`${viewPrefix(stack.config)}/`).strings();
  return new Map(Object.entries(kvs));
};

export const expectedEntries = (stack: Stack, view: View): Map<string, string> => viewEntries(viewPrefix(stack.config), view);

export const checkpointOf = async (stack: Stack): Promise<number> => {
  const value = await stack.etcdClient.get(`${viewPrefix(stack.config)}/checkpoint`).string();
  return value === null ? 0 : (JSON.parse(value) as { seq: number }).seq;
};

export const streamLastSeq = async (stack: Stack): Promise<number> =>
  (await stack.client.jsm.streams.info(stack.config.nats.stream)).state.last_seq;

/** Waits until the checkpoint in etcd reaches the stream's last sequence. */
export const waitForCaughtUp = async (stack: Stack, timeoutMs = 60_000): Promise<number> => {
  const last = await streamLastSeq(stack);
  await waitFor(async () => (await checkpointOf(stack)) >= last, { timeoutMs, what: `checkpoint to reach ${last}` });
  return last;
};

/** Sorted-key object, for deepStrictEqual with a readable diff. */
export const asObject = (m: Map<string, string>): Record<string, unknown> =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, JSON.parse(v) as unknown]));

/** The candidate id of the current projecting leader (the election key with the lowest create revision). */
export const leaderOf = async (stack: Stack): Promise<string | undefined> => {
  const prefix = `${stack.config.etcd.prefix}/election/projector/`;
  const res = await stack.etcdClient.getAll().prefix(prefix).sort('Create', 'Ascend').limit(1).exec();
  return res.kvs[0]?.value.toString();
};
