// Prometheus metrics: the coordinator's own named jzse_*, Node's the standard process_* and nodejs_*
// (docs/observability.md lists them all); one registry per coordinator so tests can run several.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { View } from '../../projections/view.js';
import type { FenceRefusal } from '../etcd/fence.js';
import { cachedReadings, REGION_STATES, type ViewReadings } from './viewReadings.js';

/** What the stream gauges are read from at each scrape, on every instance, leader or not. */
export type StreamSources = {
  /** The event stream's last sequence, asked of JetStream. */
  readonly streamEnd: () => Promise<number>;
  /** The checkpoint of the view in etcd, as this instance last saw it. */
  readonly checkpoint: () => number;
};

/** A scrape waits at most this long for JetStream; past it the stream's end keeps its last value. */
export const STREAM_END_WAIT_MS = 1000;

const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([p.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
};

/** Request handling times, gRPC and REST alike: from 100 µs (a cached point read) to 15 s (a long wait). */
const HANDLING_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 15];

/** Label values known in advance, exposed at 0 from the start so rate() and alerts see a series before the first one. */
const OUTCOMES = ['applied', 'rejected'] as const;
const TXN_REFUSALS: readonly FenceRefusal[] = ['fenced', 'checkpoint-moved'];
/** Why recovery rebuilt a view (src/projector/recovery.ts takes only these). */
export const REBUILD_REASONS = ['checkpoint ahead of the stream', 'checkpoint revision compacted'] as const;
export type RebuildReason = (typeof REBUILD_REASONS)[number];

export const createMetrics = (defaults = false) => {
  const registry = new Registry();
  // No prefix: the standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...)
  // that dashboards for any Node service expect.
  if (defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let sources: StreamSources | undefined;
  let viewSource: (() => View | undefined) | undefined;
  const readingsOf = cachedReadings();
  /** A view-derived family is rewritten whole at each scrape (a deregistered region leaves it). */
  const fromView = (write: (r: ViewReadings) => void) => (): void => {
    const view = viewSource?.();
    if (view !== undefined) write(readingsOf(view));
  };
  // The four per-region gauges are written together; each one's collect runs it (a few regions: cheap).
  const readRegions = fromView((r) => {
    for (const gauge of [metrics.regionState, metrics.regionLastSeen, metrics.regionStorageUsed, metrics.regionLoad]) gauge.reset();
    for (const { region, state, lastSeen, storageUsedBytes, loadRatio } of r.regions) {
      for (const s of REGION_STATES) metrics.regionState.set({ region, state: s }, s === state ? 1 : 0);
      metrics.regionLastSeen.set({ region }, lastSeen);
      metrics.regionStorageUsed.set({ region }, storageUsedBytes);
      metrics.regionLoad.set({ region }, loadRatio);
    }
  });
  const readConflicts = fromView((r) => {
    for (const { status, strategy, count } of r.conflicts) metrics.conflicts.set({ status, strategy }, count);
  });
  const readStreamEnd = async (): Promise<void> => {
    if (sources === undefined) return;
    const end = await within(sources.streamEnd(), STREAM_END_WAIT_MS);
    if (end !== undefined) metrics.streamLastSeq.set(end);
  };
  const readCheckpoint = (): void => {
    if (sources !== undefined) metrics.checkpoint.set(sources.checkpoint());
  };
  const metrics = {
    registry,
    /** From now on, each scrape reads jzse_stream_last_seq and jzse_projector_checkpoint_seq from these. */
    readStreamFrom: (s: StreamSources): void => {
      sources = s;
    },
    /** From now on, each scrape reads the jzse_region_* and jzse_conflicts gauges from the view this returns. */
    readViewFrom: (view: () => View | undefined): void => {
      viewSource = view;
    },
    eventsAppended: new Counter({ name: 'jzse_events_appended_total', help: 'Events stored in the stream by this instance', labelNames: ['type', 'duplicate'], registers }),
    appendErrors: new Counter({ name: 'jzse_append_errors_total', help: 'Appends that JetStream did not acknowledge', registers }),
    eventsProjected: new Counter({ name: 'jzse_projector_events_total', help: 'Events folded into the view', labelNames: ['outcome'], registers }),
    checkpoint: new Gauge({ name: 'jzse_projector_checkpoint_seq', help: 'Stream sequence the stored view reflects', registers, collect: readCheckpoint }),
    streamLastSeq: new Gauge({ name: 'jzse_stream_last_seq', help: 'Last sequence in the event stream, as last seen', registers, collect: readStreamEnd }),
    batchSeconds: new Histogram({ name: 'jzse_projector_batch_seconds', help: 'Time to write one projected batch to etcd', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers }),
    txnFailures: new Counter({ name: 'jzse_projector_txn_failures_total', help: 'etcd view transactions refused', labelNames: ['reason'], registers }),
    isLeader: new Gauge({ name: 'jzse_leader', help: '1 while this instance is the projecting leader', registers }),
    authStale: new Counter({ name: 'jzse_auth_stale_verdicts_total', help: 'Calls let in on a token verdict older than auth.cache_ttl because the identity store was unreachable', registers }),
    rebuilds: new Counter({ name: 'jzse_view_rebuilds_total', help: 'Views rebuilt from the stream', labelNames: ['reason'], registers }),
    grpcSeconds: new Histogram({
      name: 'jzse_grpc_server_handling_seconds',
      help: 'gRPC calls served by this instance: from the handler receiving the request to its reply, by method and status code',
      labelNames: ['method', 'code'],
      buckets: HANDLING_BUCKETS,
      registers,
    }),
    regionState: new Gauge({
      name: 'jzse_region_state',
      help: 'Per registered region, 1 for its state as readers see it (its report, or the coordinator\'s worse verdict from missed heartbeats), 0 for the others',
      labelNames: ['region', 'state'],
      registers,
      collect: readRegions,
    }),
    regionLastSeen: new Gauge({
      name: 'jzse_region_last_seen_timestamp_seconds',
      help: 'Per registered region, the store time of its last heartbeat or registration (Unix seconds)',
      labelNames: ['region'],
      registers,
      collect: readRegions,
    }),
    regionStorageUsed: new Gauge({
      name: 'jzse_region_storage_used_bytes',
      help: 'Per registered region, the storage it reported using in its last heartbeat',
      labelNames: ['region'],
      registers,
      collect: readRegions,
    }),
    regionLoad: new Gauge({
      name: 'jzse_region_load_ratio',
      help: 'Per registered region, the load level (0 to 1) it reported in its last heartbeat',
      labelNames: ['region'],
      registers,
      collect: readRegions,
    }),
    conflicts: new Gauge({
      name: 'jzse_conflicts',
      help: 'Conflicts in the view, by status (open: waiting for an operator) and strategy',
      labelNames: ['status', 'strategy'],
      registers,
      collect: readConflicts,
    }),
    httpSeconds: new Histogram({
      name: 'jzse_http_server_handling_seconds',
      help: 'REST requests served by this instance, by route template (never the raw URL) and HTTP status',
      labelNames: ['route', 'status'],
      buckets: HANDLING_BUCKETS,
      registers,
    }),
  };
  for (const outcome of OUTCOMES) metrics.eventsProjected.inc({ outcome }, 0);
  for (const reason of TXN_REFUSALS) metrics.txnFailures.inc({ reason }, 0);
  for (const reason of REBUILD_REASONS) metrics.rebuilds.inc({ reason }, 0);
  return metrics;
};

export type Metrics = ReturnType<typeof createMetrics>;

export const serveMetrics = (metrics: Metrics, port: number, host = '127.0.0.1'): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          (error: Error) => res.writeHead(500).end(error.message),
        );
      } else {
        res.writeHead(404).end('see /metrics\n');
      }
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
