// One coordinator instance: appends events, campaigns for leadership, and projects while leader.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { startApiServer, type ApiServer } from './api/server.js';
import { ViewReader } from './etcd/viewReader.js';
import type { Config } from './config/schema.js';
import { ViewStore } from './etcd/viewStore.js';
import { campaign } from './leadership/election.js';
import { createAppender, type Appender } from './nats/appender.js';
import { connectNats, type Nats } from './nats/connection.js';
import { ensureEventStream, ensureOutboundStream, streamSettings } from './nats/stream.js';
import { startSyncDispatcher } from './sync/dispatcher.js';
import { publishConflictNotices } from './sync/conflictNotices.js';
import type { SyncSettings } from '../projections/sync.js';
import type { Logger } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import { CommittedView } from './projector/committed.js';
import { runProjector } from './projector/projector.js';
import { lastSequence } from './nats/read.js';
import { startStandby } from './projector/standby.js';
import { delay, retrying } from './util/waitFor.js';
import { startHealthMonitor } from './health/monitor.js';
import type { HealthPolicy } from '../projections/health.js';
import type { View } from '../projections/view.js';
import { BUILT_IN_POLICY, DEFAULT_PATTERN } from '../projections/policies.js';
import type { PolicySet } from '../streams/events.js';
import { derivedId } from '../streams/ids.js';

export type Coordinator = {
  readonly appender: Appender;
  readonly api: ApiServer;
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

export const viewPrefix = (config: Config): string => `${config.etcd.prefix}/view`;
export const fencingKey = (config: Config): string => `${config.etcd.prefix}/fencing`;
export const electionPrefix = (config: Config): string => `${config.etcd.prefix}/election/projector/`;

export const syncSettings = (config: Config): SyncSettings => ({
  batchSize: config.sync.batch_size,
  flushIntervalMs: config.sync.flush_interval,
  ackTimeoutMs: config.sync.broadcast_timeout,
  maxBackoffMs: config.sync.max_backoff,
});

export const healthPolicy = (config: Config): HealthPolicy => ({
  heartbeatIntervalMs: config.health.heartbeat_interval,
  degradedAfterMissed: config.health.degraded_after_missed,
  offlineAfterMs: config.health.offline_after,
});

const configuredDefaults = (config: Config) => ({
  sync: config.sync.default_strategy,
  conflict: config.conflict.auto_resolve ? config.conflict.default_strategy : 'manual',
});

/** Whether the log's default policy is this instance's configured one (absent = built-in). */
const defaultsInLog = (view: View, config: Config): boolean => {
  const wanted = configuredDefaults(config);
  const current = view.policies.get(DEFAULT_PATTERN) ?? BUILT_IN_POLICY;
  return current.sync === wanted.sync && current.conflict === wanted.conflict;
};

/**
 * The configured defaults become the `**` policy, as an event, so replay reproduces every decision
 * made under them. Appended by a new leader only when the log's defaults differ from its configuration.
 */
/** The configured defaults as the `**` policy a leader of term `term` appends. */
export const defaultPolicyEvent = (config: Config, term: string, at: string): PolicySet => {
  const { sync, conflict } = configuredDefaults(config);
  return {
    schema: 1, id: derivedId('config-default', term, sync, conflict), type: 'policy.set', at,
    operator: `config:${config.coordinator.id}`, pattern: DEFAULT_PATTERN, sync, conflict,
  };
};

const ensureDefaultPolicy = async (view: View, config: Config, appender: Appender, term: string, log: Logger): Promise<void> => {
  if (defaultsInLog(view, config)) return;
  const event = defaultPolicyEvent(config, term, new Date().toISOString());
  const { sync, conflict } = event;
  try {
    const ack = await appender.append(event);
    log.info({ eventId: event.id, seq: ack.seq, sync, conflict }, 'default policy set from configuration');
  } catch (error) {
    log.warn({ err: error }, 'could not append the default policy; the log keeps its current defaults');
  }
};

export const connectEtcd = (config: Config): Etcd3 =>
  new Etcd3({
    hosts: config.etcd.endpoints,
    dialTimeout: config.etcd.dial_timeout,
    // etcd3's default circuit breaker keeps refusing calls for seconds after etcd comes back;
    // every caller here retries on its own terms (projector backoff, UNAVAILABLE to API clients).
    faultHandling: { host: () => noop },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + Math.max(5000, config.etcd.dial_timeout) }),
  });

export const startCoordinator = async (
  config: Config,
  endpoints: { natsUrl: string; etcd: string[] },
  log: Logger,
  metrics: Metrics,
): Promise<Coordinator> => {
  const resolved: Config = { ...config, etcd: { ...config.etcd, endpoints: endpoints.etcd } };
  const nats = await connectNats(endpoints.natsUrl, `jzse-${config.coordinator.id}`, log);
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
  const api = await startApiServer(config.grpc, {
    appender, reader, log, metrics, waitTimeoutMs: config.grpc.wait_timeout, natsConnected: nats.connected, committed: committed.get,
  }, { nc: nats.nc, etcd }, log);

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
    reader,
    store,
    nats,
    etcd,
    isLeader: () => leading,
    committedView: committed.get,
    stop: async () => {
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
