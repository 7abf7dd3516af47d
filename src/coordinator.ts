// One coordinator instance: appends events, campaigns for leadership, and projects while leader.
// It only composes the parts; what the configuration means to them is in src/config/derived.ts.
import type { Etcd3 } from 'etcd3';
import * as E from 'fp-ts/lib/Either.js';
import { fencingKey, healthPolicy, syncSettings, viewPrefix } from './config/derived.js';
import { connectEtcd } from './etcd/connect.js';
import { defaultsInLog, ensureDefaultPolicy } from './sync/defaultPolicy.js';
import { startApiServer, type ApiServer } from './api/server.js';
import { ViewReader } from './etcd/viewReader.js';
import type { Config } from './config/schema.js';
import { ViewStore } from './etcd/viewStore.js';
import { campaign } from './leadership/election.js';
import { createAppender, type Appender } from './nats/appender.js';
import { connectNats, type Nats } from './nats/connection.js';
import { configuredCredentials, type NatsCredentials } from './nats/credentials.js';
import { ensureEventStream, ensureOutboundStream, streamSettings } from './nats/stream.js';
import { startSyncDispatcher } from './sync/dispatcher.js';
import { publishConflictNotices } from './sync/conflictNotices.js';
import type { Logger } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import { CommittedView } from './projector/committed.js';
import { runProjector } from './projector/projector.js';
import { lastSequence } from './nats/read.js';
import { startStandby } from './projector/standby.js';
import { delay, retrying } from './util/waitFor.js';
import { startHealthMonitor } from './health/monitor.js';
import type { View } from '../projections/view.js';
import { Authenticator } from './auth/authenticator.js';
import type { IdentityStore } from './store/identity.js';
import { startRestServer, type RestServer } from './rest/server.js';

export type Coordinator = {
  readonly appender: Appender;
  readonly api: ApiServer;
  /** The admin REST API (rest.port). */
  readonly rest: RestServer;
  readonly reader: ViewReader;
  readonly store: ViewStore;
  readonly nats: Nats;
  readonly etcd: Etcd3;
  readonly isLeader: () => boolean;
  /** The committed view point reads are served from, if this instance holds one. */
  readonly committedView: () => View | undefined;
  /** Stops projecting, resigns leadership and closes connections. */
  readonly stop: () => Promise<void>;
};

export type CoordinatorOptions = {
  /** Required with auth.enabled: where tokens are verified and principals managed. */
  readonly identity?: IdentityStore;
  /** Principals or tokens were changed through this instance (e.g. regenerate the NATS users). */
  readonly onIdentityChanged?: () => void;
  /** The NATS user to connect as; default: from the configuration (src/nats/credentials.ts). */
  readonly natsCredentials?: NatsCredentials;
};

export const startCoordinator = async (
  config: Config,
  endpoints: { natsUrl: string; etcd: string[] },
  log: Logger,
  metrics: Metrics,
  options: CoordinatorOptions = {},
): Promise<Coordinator> => {
  const { identity } = options;
  if (config.auth.enabled && identity === undefined) throw new Error('auth.enabled is true but no identity store was opened');
  const authenticator = identity === undefined ? undefined : new Authenticator((token) => identity.verify(token), { ttlMs: config.auth.cache_ttl, log, onStale: () => metrics.authStale.inc() });
  const resolved: Config = { ...config, etcd: { ...config.etcd, endpoints: endpoints.etcd } };
  const credentials = options.natsCredentials === undefined ? configuredCredentials(config) : E.right(options.natsCredentials);
  if (E.isLeft(credentials)) throw new Error(credentials.left);
  const nats = await connectNats(endpoints.natsUrl, `jzse-${config.coordinator.id}`, log, credentials.right);
  // NATS or etcd may be restarting while we start: keep trying rather than die.
  await retrying(async () => {
    await ensureEventStream(nats.jsm, streamSettings(config), log);
    await ensureOutboundStream(nats.jsm, streamSettings(config), config.sync.request_retention);
  }, (err, attempt) => log.warn({ err, attempt }, 'cannot set up the streams yet; retrying'));
  const etcd = connectEtcd(resolved);
  const store = new ViewStore(etcd, viewPrefix(config), {
    maxTxnOps: config.projector.max_txn_ops,
    maxTxnBytes: config.projector.max_txn_bytes,
  }, fencingKey(config));
  const appender = createAppender(nats.js, { stream: config.nats.stream }, log, metrics);
  const reader = new ViewReader(etcd, viewPrefix(config), config.projector.max_txn_ops);
  await retrying(() => reader.start(), (err, attempt) => log.warn({ err, attempt }, 'cannot read the view from etcd yet; retrying'));
  metrics.readStreamFrom({ streamEnd: () => lastSequence(nats.jsm, config.nats.stream), checkpoint: () => reader.latest });
  const committed = new CommittedView();
  metrics.readViewFrom(committed.get);
  const apiDeps = { appender, reader, log, metrics, waitTimeoutMs: config.grpc.wait_timeout, natsConnected: nats.connected, committed: committed.get };
  const gate = config.auth.enabled && authenticator !== undefined ? { authenticator } : null;
  const identityDeps = identity === undefined || authenticator === undefined ? undefined : { store: identity, authenticator, changed: options.onIdentityChanged ?? (() => undefined) };
  const api = await startApiServer(config.grpc, apiDeps, { nc: nats.nc, etcd }, log, { gate, ...(identityDeps === undefined ? {} : { identity: identityDeps }) });
  const rest = await startRestServer({
    api: apiDeps, gate, ...(identityDeps === undefined ? {} : { identity: identityDeps }),
    streams: { nc: nats.nc, js: nats.js, jsm: nats.jsm, stream: config.nats.stream }, etcd, config,
  }, log);

  const stopping = new AbortController();
  let leading = false;
  let resign: (() => Promise<void>) | undefined;

  const lead = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        // Followers keep a warm view so that, once elected, recovery reads no view from etcd.
        const from = committed.get();
        const standby = startStandby({ js: nats.js, stream: config.nats.stream, store, reader, log, ...(from === undefined ? {} : { from }), onView: committed.offer });
        let leadership: Awaited<ReturnType<typeof campaign>>;
        let warm: View | undefined;
        try {
          leadership = await campaign(etcd, config.etcd.prefix, config.coordinator.id, config.etcd.lease_ttl, stopping.signal);
        } finally {
          warm = await standby.stop();
        }
        if (leadership === undefined) continue;
        resign = leadership.resign;
        leading = true;
        metrics.isLeader.set(1);
        log.info({ fence: leadership.fence }, 'elected projecting leader');
        const termEnded = new AbortController();
        const term = AbortSignal.any([stopping.signal, leadership.lost, termEnded.signal]);
        let view: View | undefined;
        let defaultsChecked = false;
        // Judge the log's default policy only once caught up with what was stored at election.
        const tail = await lastSequence(nats.jsm, config.nats.stream);
        const onView = (v: View) => {
          view = v;
          if (!defaultsChecked && v.seq >= tail) {
            defaultsChecked = true;
            void ensureDefaultPolicy(v, config, appender, leadership.fence.createRevision, log);
          }
        };
        const dispatcher = startSyncDispatcher({ js: nats.js, view: () => view, ready: (v) => defaultsInLog(v, config), appender, settings: syncSettings(config), observer: config.coordinator.id, log, signal: term });
        startHealthMonitor({ view: () => view, appender, policy: healthPolicy(config), observer: config.coordinator.id, log, signal: term });
        const exit = await runProjector(
          { nc: nats.nc, js: nats.js, jsm: nats.jsm, stream: config.nats.stream, store, fence: leadership.fence, batchEvents: config.projector.batch_events, log, metrics, onView, ...(warm === undefined ? {} : { warm }),
            onCommitted: (v, touched) => {
              committed.offer(v);
              publishConflictNotices(nats.js, v, touched, log);
              dispatcher.noteCommitted(v, touched);
            } },
          term,
        );
        termEnded.abort();
        leading = false;
        metrics.isLeader.set(0);
        if (exit === 'deposed' || leadership.lost.aborted) log.warn('lost leadership; campaigning again as a follower');
        await leadership.resign();
      } catch (error) {
        leading = false;
        metrics.isLeader.set(0);
        if (stopping.signal.aborted) break;
        log.error({ err: error }, 'leadership loop failed; retrying');
        await delay(500, stopping.signal);
      }
    }
  };
  const leadLoop = lead();

  return {
    appender,
    api,
    rest,
    reader,
    store,
    nats,
    etcd,
    isLeader: () => leading,
    committedView: committed.get,
    stop: async () => {
      await rest.stop();
      await api.stop();
      stopping.abort();
      await leadLoop;
      await resign?.();
      await reader.stop();
      await nats.nc.drain().catch(() => undefined);
      etcd.close();
    },
  };
};
