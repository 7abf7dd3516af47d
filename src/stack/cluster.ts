// The production topology on loopback: 3 nats-server clustered with JetStream (one cluster name,
// routes to each other, the event stream at replicas 3), 3 etcd members, a real PostgreSQL for the
// identity store, and 2–3 coordinators (src/main.ts as child processes) pointed at all of them.
// `npm run cluster` runs it (clusterMain.ts); cluster tests and chaos start it with startCluster.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../util/waitFor.js';
import { supportsSyncAlways } from './natsCheck.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { freePort, httpReady, manage, startEtcd, startNatsServer, type EtcdServer, type NatsServer, type ServerProcess } from './processes.js';

export const CLUSTER_NAME = 'jzse';
const SIZE = 3;
/** A JetStream cluster elects its meta leader within seconds; bounded well above that. */
const FORMED_BOUND_MS = 60_000;
const COORDINATOR_READY_MS = 90_000;
const REPO = fileURLToPath(new URL('../..', import.meta.url));

export type ClusterCoordinator = ServerProcess & {
  readonly id: string;
  /** host:port of its gRPC API. */
  readonly grpc: string;
  /** Base URL of its REST API (/healthz, /readyz, /api/v1/...). */
  readonly rest: string;
  readonly metrics: string;
  /** Its log file (pino JSON lines, and the first admin's notice on the first start). */
  readonly log: string;
};

export type Cluster = {
  readonly dir: string;
  readonly nats: readonly NatsServer[];
  /** Every nats-server's client URL, comma-separated: the value of nats.url. */
  readonly natsUrl: string;
  readonly etcd: readonly EtcdServer[];
  readonly etcdEndpoints: readonly string[];
  readonly postgres: PostgresServer;
  readonly coordinators: readonly ClusterCoordinator[];
  /** Where the first coordinator to start wrote the first admin's token (auth.admin_token_file). */
  readonly adminTokenFile: string;
  /** Whether the nats-servers run with `jetstream { sync_interval: always }` (this machine's nats-server knows it). */
  readonly syncAlways: boolean;
  /** JZSE_* variables that point a coordinator or `jzse` at this cluster (no id, ports or data folder). */
  readonly env: Readonly<Record<string, string>>;
  /** Coordinators first (SIGTERM: they resign), then PostgreSQL, etcd and NATS. Data stays in `dir`. */
  readonly stop: () => Promise<void>;
};

export type ClusterOptions = {
  /** Everything lives here: one folder per server, its data and its log. */
  readonly dir: string;
  /** 2 or 3 (default 2). */
  readonly coordinators?: number;
  /** More JZSE_* settings for every coordinator (e.g. a short etcd.lease_ttl in tests). */
  readonly coordinatorEnv?: Readonly<Record<string, string>>;
  /** PostgreSQL settings (`-c key=value`), e.g. fsync=off for throwaway test data. */
  readonly postgresSettings?: Readonly<Record<string, string>>;
  /** Progress, one line per step. */
  readonly progress?: (line: string) => void;
};

const ports = async (n: number): Promise<number[]> => {
  const taken = new Set<number>();
  while (taken.size < n) taken.add(await freePort());
  return [...taken];
};

type Jsz = { meta_cluster?: { leader?: string; cluster_size?: number } };

/** Every member reports the same JetStream meta leader, in a cluster of SIZE. */
const jetStreamFormed = async (servers: readonly NatsServer[]): Promise<string | undefined> => {
  const leaders = await Promise.all(servers.map(async (s) => {
    const response = await fetch(`http://127.0.0.1:${s.monitor}/jsz`, { signal: AbortSignal.timeout(1000) });
    const meta = ((await response.json()) as Jsz).meta_cluster;
    return meta?.cluster_size === SIZE ? meta.leader : undefined;
  }));
  const first = leaders[0];
  return first !== undefined && first !== '' && leaders.every((l) => l === first) ? first : undefined;
};

const startNatsCluster = async (dir: string, syncAlways: boolean): Promise<NatsServer[]> => {
  const all = await ports(3 * SIZE);
  const [client, monitor, route] = [all.slice(0, SIZE), all.slice(SIZE, 2 * SIZE), all.slice(2 * SIZE)];
  const servers = await Promise.all(Array.from({ length: SIZE }, (_, i) => startNatsServer(
    join(dir, `nats-${i + 1}`),
    { client: client[i] ?? 0, monitor: monitor[i] ?? 0 },
    { cluster: { name: CLUSTER_NAME, serverName: `n${i + 1}`, port: route[i] ?? 0, routes: route.filter((_, j) => j !== i) }, syncAlways },
  )));
  await waitFor(() => jetStreamFormed(servers), { timeoutMs: FORMED_BOUND_MS, intervalMs: 200, what: `the ${SIZE} nats-servers to agree on a JetStream meta leader` });
  return servers;
};

const startEtcdCluster = async (dir: string): Promise<EtcdServer[]> => {
  const all = await ports(2 * SIZE);
  const [client, peer] = [all.slice(0, SIZE), all.slice(SIZE)];
  const initialCluster = peer.map((p, i) => `e${i + 1}=http://127.0.0.1:${p}`).join(',');
  // Together: a member reports healthy only once a quorum has elected a leader.
  return Promise.all(Array.from({ length: SIZE }, (_, i) => startEtcd(
    join(dir, `etcd-${i + 1}`),
    { client: client[i] ?? 0, peer: peer[i] ?? 0 },
    { name: `e${i + 1}`, initialCluster, token: `${CLUSTER_NAME}-etcd` },
  )));
};

const startClusterCoordinator = async (dir: string, id: string, env: Readonly<Record<string, string>>): Promise<ClusterCoordinator> => {
  const [grpc, rest, metrics] = await ports(3);
  const own = join(dir, id);
  const base = `http://127.0.0.1:${rest}`;
  const server = await manage({
    name: id,
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO, 'src', 'main.ts')],
    dir: own,
    cwd: REPO,
    env: {
      ...process.env,
      ...env,
      JZSE_COORDINATOR_ID: id,
      JZSE_COORDINATOR_DATA_DIR: join(own, 'data'),
      JZSE_GRPC_PORT: String(grpc),
      JZSE_REST_PORT: String(rest),
      JZSE_COORDINATOR_METRICS_PORT: String(metrics),
    },
    ready: httpReady(`${base}/readyz`, (body) => body.includes('"ready":true')),
    // tsx compiles it at start, and the streams may need a retry (see startCluster): on a loaded
    // machine that outlasts the servers' 30 s.
    readyTimeoutMs: COORDINATOR_READY_MS,
  });
  return { ...server, id, grpc: `127.0.0.1:${grpc}`, rest: base, metrics: `http://127.0.0.1:${metrics}/metrics`, log: join(own, `${id}.log`) };
};

export const startCluster = async (o: ClusterOptions): Promise<Cluster> => {
  const progress = o.progress ?? (() => undefined);
  const count = o.coordinators ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > 3) throw new Error(`coordinators: expected 2 or 3, got ${count}`);
  mkdirSync(o.dir, { recursive: true });
  // PostgreSQL runs as the `postgres` user under root: it must be able to pass through our folder.
  if (process.getuid?.() === 0) chmodSync(o.dir, 0o711);
  const started: ServerProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse start order: coordinators resign before the servers they use go away.
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    started.length = 0;
  };
  try {
    const syncAlways = await supportsSyncAlways();
    progress(`nats-server: 3 nodes, cluster "${CLUSTER_NAME}", JetStream${syncAlways ? ', sync_interval: always' : ' (this nats-server does not know sync_interval: acknowledged before fsync)'}`);
    const nats = await startNatsCluster(o.dir, syncAlways);
    started.push(...nats);
    progress('etcd: 3 members');
    const etcd = await startEtcdCluster(o.dir);
    started.push(...etcd);
    progress('PostgreSQL');
    const postgres = await startPostgres(join(o.dir, 'postgres'), o.postgresSettings === undefined ? {} : { settings: o.postgresSettings });
    started.push(postgres);
    const natsUrl = nats.map((n) => n.url).join(',');
    const etcdEndpoints = etcd.map((e) => e.endpoint);
    const adminTokenFile = join(o.dir, 'admin.token');
    const env = {
      JZSE_NATS_URL: natsUrl,
      JZSE_NATS_REPLICAS: String(SIZE),
      JZSE_ETCD_ENDPOINTS: etcdEndpoints.join(','),
      JZSE_DATABASE_URL: postgres.url,
      JZSE_AUTH_ADMIN_TOKEN_FILE: adminTokenFile,
      // No YAML file of the working folder applies: the cluster is configured by these alone.
      JZSE_CONFIG: join(o.dir, 'empty.yaml'),
      ...o.coordinatorEnv,
    };
    writeFileSync(env.JZSE_CONFIG, '# npm run cluster: every setting comes from JZSE_* variables\n');
    progress(`coordinators: ${count}`);
    // The first alone: it creates the streams and the first admin. nats-server 2.9.10 may answer
    // neither of two concurrent creates of one R3 stream (both time out, the stream is created), and
    // each coordinator then spends its 10 s request timeout before its retry finds the stream.
    const first = await startClusterCoordinator(o.dir, 'coordinator-1', env);
    started.push(first);
    const rest = await Promise.all(Array.from({ length: count - 1 }, async (_, i) => {
      const c = await startClusterCoordinator(o.dir, `coordinator-${i + 2}`, env);
      started.push(c);
      return c;
    }));
    const coordinators = [first, ...rest];
    return { dir: o.dir, nats, natsUrl, etcd, etcdEndpoints, postgres, coordinators, adminTokenFile, syncAlways, env, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
};

/** What `npm run cluster` prints: every endpoint, and how to point `jzse` at the cluster. */
export const describeCluster = (c: Cluster): string => [
  `JzSE cluster on loopback (data and logs in ${c.dir})`,
  ...c.nats.map((n, i) => `  nats-server n${i + 1}: ${n.url}   monitor http://127.0.0.1:${n.monitor}`),
  ...c.etcd.map((e, i) => `  etcd e${i + 1}:        ${e.endpoint}`),
  `  PostgreSQL:     ${c.postgres.url}`,
  ...c.coordinators.map((k) => `  ${k.id}:  gRPC ${k.grpc}   REST ${k.rest}   metrics ${k.metrics}   log ${k.log}`),
  `  admin token:    ${c.adminTokenFile}`,
  '',
  'Point jzse at it:',
  `  export JZSE_NATS_URL=${c.env['JZSE_NATS_URL'] ?? ''} JZSE_ETCD_ENDPOINTS=${c.env['JZSE_ETCD_ENDPOINTS'] ?? ''} JZSE_AUTH_ADMIN_TOKEN_FILE=${c.adminTokenFile}`,
  '  npm run jzse -- status',
  '',
].join('\n');
