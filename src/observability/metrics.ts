// Prometheus metrics: the coordinator's own named jzse_*, Node's the standard process_* and nodejs_*
// (deploy/README.md lists them all); one registry per coordinator so tests can run several.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

export const createMetrics = (defaults = false) => {
  const registry = new Registry();
  // No prefix: the standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...)
  // that dashboards for any Node service expect.
  if (defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let sources: StreamSources | undefined;
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
    httpSeconds: new Histogram({
      name: 'jzse_http_server_handling_seconds',
      help: 'REST requests served by this instance, by route template (never the raw URL) and HTTP status',
      labelNames: ['route', 'status'],
      buckets: HANDLING_BUCKETS,
      registers,
    }),
  };
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
