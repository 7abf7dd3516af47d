// A real nats-server and etcd on free ports in a temp folder, the coordinator configuration that
// points at them, and a client for each: what the test harness (stack.ts) and the benchmark
// (bench/env.ts) both stand on. Callers add their own defaults through `env`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { connectEtcd } from '../../src/etcd/connect.js';
import { connectNats, type Nats } from '../../src/nats/connection.js';
import { ensureEventStream, streamSettings } from '../../src/nats/stream.js';
import { startEtcd, startNatsServer, type EtcdServer, type NatsServer } from '../../src/stack/processes.js';

export type Servers = {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly etcd: EtcdServer;
  /** Environment every coordinator of these servers gets (JZSE_* variables). */
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly client: Nats;
  readonly etcdClient: ReturnType<typeof connectEtcd>;
  /** Stops both servers; the folder (their data and logs) is removed unless `keep`. */
  readonly stop: (o?: { keep?: boolean }) => Promise<void>;
};

/** The coordinator configuration for an environment, from the environment alone (no YAML file). */
export const configFromEnv = (env: Record<string, string>): Config => {
  const loaded = loadConfig({ ...env, JZSE_CONFIG: undefined }, join(tmpdir(), 'jzse-no-config-file.yaml'));
  if (E.isLeft(loaded)) throw new Error(loaded.left.join('\n'));
  return loaded.right.config;
};

export const startServers = async (name: string, env: Record<string, string>, log: Logger): Promise<Servers> => {
  const dir = mkdtempSync(join(tmpdir(), `jzse-${name}-`));
  const nats = await startNatsServer(join(dir, 'nats'));
  const etcd = await startEtcd(join(dir, 'etcd'));
  const full: Record<string, string> = {
    JZSE_NATS_URL: nats.url,
    JZSE_ETCD_ENDPOINTS: etcd.endpoint,
    JZSE_COORDINATOR_METRICS_PORT: '0',
    JZSE_COORDINATOR_DATA_DIR: join(dir, 'data'),
    ...env,
  };
  const config = configFromEnv(full);
  const client = await connectNats(nats.url, `${name}-client`);
  await ensureEventStream(client.jsm, streamSettings(config), log);
  const etcdClient = connectEtcd(config);
  return {
    dir, nats, etcd, env: full, config, client, etcdClient,
    stop: async ({ keep = false } = {}) => {
      await client.nc.close().catch(() => undefined);
      etcdClient.close();
      await nats.stop();
      await etcd.stop();
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
};
