// Where the audit functions read and write: the coordinator's own configuration (same loader, same
// keys), with connections opened on first use so that a command needing only NATS never dials etcd.
// The audit side never creates the stream and never starts servers: it reads what is there.
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Etcd3 } from 'etcd3';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '../config/load.js';
import { urlList, type Config } from '../config/schema.js';
import { failed, notFound, usage } from './errors.js';
import { parseToken } from '../auth/model.js';
import { configuredCredentials } from '../nats/credentials.js';
import { inboxPrefix } from '../nats/permissions.js';

/** Command-line overrides of the configuration (each wins over the file and the environment). */
export type ConnectionOverrides = {
  readonly config?: string;
  readonly natsUrl?: string;
  readonly etcd?: string;
  readonly etcdPrefix?: string;
  readonly stream?: string;
};

/** Loads the configuration as the coordinator does, with the overrides as environment variables. */
export const auditConfig = (env: NodeJS.ProcessEnv, o: ConnectionOverrides = {}): Config => {
  const merged: NodeJS.ProcessEnv = { ...env };
  if (o.config !== undefined) merged['JZSE_CONFIG'] = o.config;
  if (o.natsUrl !== undefined) merged['JZSE_NATS_URL'] = o.natsUrl;
  if (o.etcd !== undefined) merged['JZSE_ETCD_ENDPOINTS'] = o.etcd;
  if (o.etcdPrefix !== undefined) merged['JZSE_ETCD_PREFIX'] = o.etcdPrefix;
  if (o.stream !== undefined) merged['JZSE_NATS_STREAM'] = o.stream;
  const loaded = loadConfig(merged);
  if (E.isLeft(loaded)) throw usage(`invalid configuration:\n${loaded.left.map((l) => `  - ${l}`).join('\n')}`);
  return loaded.right.config;
};

export type StreamAccess = {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
};

const STREAM_NOT_FOUND = 10059;

/** How the CLI logs in to NATS; `from` says where the credentials came from (never what they are). */
export type NatsLogin = { readonly user: string; readonly pass: string; readonly inboxPrefix?: string; readonly from: string };

/**
 * `nats.user` with `nats.password_file` when set (the coordinator's own user); else the caller's
 * token as its NATS user (user = token id, password = the token; a token of an admin, operator or
 * auditor may read the event stream, src/nats/permissions.ts), with the inbox only that user may
 * read; else none (a server without authorization).
 */
export const natsLogin = (config: Config, token?: string): NatsLogin | undefined => {
  if (config.nats.user !== null) {
    const credentials = configuredCredentials(config);
    if (E.isLeft(credentials)) throw usage(credentials.left);
    return credentials.right === undefined ? undefined : { ...credentials.right, from: 'nats.user' };
  }
  const parsed = token === undefined ? undefined : parseToken(token);
  if (token === undefined || parsed === undefined) return undefined;
  return { user: parsed.id, pass: token, inboxPrefix: inboxPrefix(parsed.id), from: `token ${parsed.id}` };
};

export class AuditContext {
  private natsAccess: Promise<StreamAccess> | undefined;
  private etcdClient: Promise<Etcd3> | undefined;

  /** `token`: the caller's API token, also its NATS user when `nats.user` is not set (natsLogin). */
  constructor(readonly config: Config, private readonly o: { token?: string } = {}) {}

  /** Over connections a coordinator already holds (the REST API): nothing new is dialled; do not close it. */
  static over(config: Config, streams: StreamAccess, etcd: Etcd3): AuditContext {
    const ctx = new AuditContext(config);
    ctx.natsAccess = Promise.resolve(streams);
    ctx.etcdClient = Promise.resolve(etcd);
    return ctx;
  }

  /** The coordinator's etcd prefix, e.g. /jzse. */
  get root(): string {
    return this.config.etcd.prefix;
  }

  /** Where the live view lives: <root>/view. */
  get viewPrefix(): string {
    // The same as src/coordinator.ts viewPrefix; not imported, so the CLI does not load the API server.
    return `${this.root}/view`;
  }

  /** The projector election's candidates: <root>/election/projector/<lease>. */
  get electionPrefix(): string {
    return `${this.root}/election/projector/`;
  }

  get snapshotsPrefix(): string {
    return `${this.root}/snapshots`;
  }

  get limits(): { maxTxnOps: number; maxTxnBytes: number } {
    return { maxTxnOps: this.config.projector.max_txn_ops, maxTxnBytes: this.config.projector.max_txn_bytes };
  }

  /** NATS, connected once, with the event stream checked to exist. */
  nats(): Promise<StreamAccess> {
    this.natsAccess ??= this.connectNats();
    return this.natsAccess;
  }

  private async connectNats(): Promise<StreamAccess> {
    const url = this.config.nats.url;
    if (url === null) {
      throw usage('no NATS URL: pass --nats-url or set JZSE_NATS_URL (or nats.url in the configuration file); the CLI does not start an embedded nats-server');
    }
    const login = natsLogin(this.config, this.o.token);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: urlList(url), name: 'jzse-cli', timeout: 5000, maxReconnectAttempts: 5, reconnectTimeWait: 250,
        ...(login === undefined ? {} : { user: login.user, pass: login.pass }),
        ...(login?.inboxPrefix === undefined ? {} : { inboxPrefix: login.inboxPrefix }),
      });
    } catch (error) {
      // nats.js names neither the user nor the password in its errors; `from` says which login was refused.
      throw failed(`cannot reach NATS at ${url}${login === undefined ? '' : ` (as ${login.from})`}: ${(error as Error).message}`);
    }
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const stream = this.config.nats.stream;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      await nc.close().catch(() => undefined);
      if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) {
        throw notFound(`the event stream ${stream} does not exist on ${url} (is nats.stream right?)`);
      }
      throw failed(`cannot read the event stream ${stream} on ${url}: ${(error as Error).message}`);
    }
    return { nc, js: jetstream(nc, { timeout: 10_000 }), jsm, stream };
  }

  /** Whether etcd is configured at all (commands that can do without it, e.g. a rebuild to a file, skip it). */
  get hasEtcd(): boolean {
    return this.config.etcd.endpoints.length > 0;
  }

  /** The etcd client, created on first use (etcd3 and gRPC are loaded only then: replay never needs them). */
  etcd(): Promise<Etcd3> {
    if (this.etcdClient !== undefined) return this.etcdClient;
    if (this.config.etcd.endpoints.length === 0) {
      return Promise.reject(usage('no etcd endpoints: pass --etcd or set JZSE_ETCD_ENDPOINTS (or etcd.endpoints in the configuration file); the CLI does not start an embedded etcd'));
    }
    const { endpoints, dial_timeout: dialTimeout } = this.config.etcd;
    const timeout = Math.max(5000, dialTimeout);
    this.etcdClient = import('etcd3').then(({ Etcd3 }) => new Etcd3({
      hosts: endpoints,
      dialTimeout,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    }));
    return this.etcdClient;
  }

  async close(): Promise<void> {
    const access = this.natsAccess;
    this.natsAccess = undefined;
    if (access !== undefined) {
      await access.then((a) => a.nc.close(), () => undefined).catch(() => undefined);
    }
    const etcd = this.etcdClient;
    this.etcdClient = undefined;
    if (etcd !== undefined) (await etcd.catch(() => undefined))?.close();
  }
}
