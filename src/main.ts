// `npm start`: load configuration (or run on embedded defaults), start what is missing of the local
// stack, run one coordinator instance, and shut all of it down cleanly on SIGINT / SIGTERM.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from './config/load.js';
import { startCoordinator } from './coordinator.js';
import { createLogger } from './observability/log.js';
import { createMetrics, serveMetrics } from './observability/metrics.js';
import { startEtcd, startNatsServer } from './stack/processes.js';
import { startAuthorizedNats, type AuthorizedNats } from './stack/authorizedNats.js';
import { withTimeout } from './util/waitFor.js';
import { identityStoreOptions, openIdentityStore, type IdentityStore } from './store/identity.js';
import { firstAdminNotice, writeTokenFile } from './auth/firstStart.js';
import { adminTokenFile } from './cli/api.js';

const loaded = loadConfig();
if (E.isLeft(loaded)) {
  process.stderr.write(`jzse: invalid configuration, nothing started:\n${loaded.left.map((l) => `  - ${l}`).join('\n')}\n`);
  process.exit(2);
}
const { config, file } = loaded.right;
const log = createLogger(config.coordinator.log_level, config.coordinator.id);
const metrics = createMetrics(true);
const children: Array<{ readonly name: string; readonly stop: () => Promise<void> }> = [];
/** How long SIGINT / SIGTERM waits for the coordinator: the commit in flight and a resignation take far less. */
const SHUTDOWN_BOUND_MS = 30_000;

let identity: IdentityStore | undefined;

/** With auth on: the identity store (migrated), and on an empty one the first admin. */
const openIdentity = async (dataDir: string): Promise<IdentityStore | undefined> => {
  if (!config.auth.enabled) return undefined;
  const opened = await openIdentityStore({ ...identityStoreOptions(config), dataDir, log });
  if (E.isLeft(opened)) throw new Error(`identity store: ${opened.left}`);
  const first = await opened.right.bootstrapAdmin();
  if (first !== undefined) {
    const tokenFile = adminTokenFile(config);
    writeTokenFile(tokenFile, first.token);
    process.stdout.write(`${firstAdminNotice(first, tokenFile)}\n`);
    log.info({ principal: first.info.principal, tokenId: first.info.id, file: tokenFile }, 'first admin created; its token was printed once and written to the file');
  }
  return opened.right;
};

const main = async (): Promise<void> => {
  log.info({ configFile: file ?? '(none: embedded defaults)' }, 'starting JzSE coordinator');
  const dataDir = resolve(config.coordinator.data_dir);
  mkdirSync(dataDir, { recursive: true });
  identity = await openIdentity(dataDir);
  let natsUrl = config.nats.url;
  let authorized: AuthorizedNats | undefined;
  if (natsUrl === null && identity !== undefined) {
    // With authentication on, the embedded server admits only users the identity store issued.
    const started = await startAuthorizedNats({ dir: resolve(dataDir, 'nats'), config, log });
    if (E.isLeft(started)) throw new Error(`embedded nats-server: ${started.left}`);
    authorized = started.right;
    children.push({ name: 'nats-server', stop: started.right.stop });
    natsUrl = started.right.server.url;
    log.info({ url: natsUrl, dir: resolve(dataDir, 'nats'), authorization: true }, 'embedded nats-server started');
  } else if (natsUrl === null) {
    const nats = await startNatsServer(resolve(dataDir, 'nats'));
    children.push(nats);
    natsUrl = nats.url;
    log.info({ url: natsUrl, dir: resolve(dataDir, 'nats') }, 'embedded nats-server started');
  }
  let etcdEndpoints = config.etcd.endpoints;
  if (etcdEndpoints.length === 0) {
    const etcd = await startEtcd(resolve(dataDir, 'etcd'));
    children.push(etcd);
    etcdEndpoints = [etcd.endpoint];
    log.info({ endpoint: etcd.endpoint, dir: resolve(dataDir, 'etcd') }, 'embedded etcd started');
  }
  const store = identity;
  const users = store === undefined || authorized === undefined ? undefined : () => store.natsUsers();
  const applyUsers = (): void => {
    if (users !== undefined) void users().then((u) => authorized?.apply(u)).catch((error: unknown) => log.error({ err: error }, 'could not apply the NATS users'));
  };
  const coordinator = await startCoordinator(config, { natsUrl, etcd: etcdEndpoints }, log, metrics, {
    ...(identity === undefined ? {} : { identity, onIdentityChanged: applyUsers }),
    ...(authorized === undefined ? {} : { natsCredentials: authorized.credentials }),
  });
  // Within a second also for what changed elsewhere: another instance, a token that expired.
  const following = new AbortController();
  if (users !== undefined && authorized !== undefined) {
    await authorized.apply(await users());
    void authorized.follow(users, { intervalMs: 1000, signal: following.signal });
  }
  const server = config.coordinator.metrics_port === 0 ? undefined : await serveMetrics(metrics, config.coordinator.metrics_port, config.coordinator.metrics_host);
  log.info({ grpc: `${config.grpc.host}:${coordinator.api.port}`, rest: `http://${config.rest.host}:${coordinator.rest.port}`, nats: natsUrl, etcd: etcdEndpoints, metrics: server ? `http://${config.coordinator.metrics_host}:${config.coordinator.metrics_port}/metrics` : 'off' }, 'coordinator ready');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server?.close();
    following.abort();
    let code = 0;
    try {
      // Bounded: a stop that cannot finish (a server gone mid-call) must not keep the process up.
      await withTimeout(coordinator.stop(), SHUTDOWN_BOUND_MS, 'the coordinator to stop');
    } catch (error) {
      log.error({ err: error }, 'the coordinator did not stop cleanly; exiting anyway');
      code = 1;
    }
    for (const child of children.reverse()) await child.stop().catch((error: unknown) => log.error({ err: error }, `could not stop ${child.name}`));
    await identity?.close().catch((error: unknown) => log.error({ err: error }, 'could not close the identity store'));
    log.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
};

main().catch(async (error: unknown) => {
  log.fatal({ err: error }, 'coordinator failed to start');
  for (const child of children.reverse()) await child.stop().catch(() => undefined);
  await identity?.close().catch(() => undefined);
  process.exit(1);
});
