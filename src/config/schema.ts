// The coordinator's configuration: the seed's YAML keys plus what running needs. Every key has a
// default, so no configuration at all runs the embedded local stack.
import * as t from 'io-ts';

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "10s", "2m", "1h" → milliseconds. */
export const Duration = new t.Type<number, string, unknown>(
  'duration like 500ms, 10s, 2m or 1h',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const match = typeof u === 'string' ? DURATION.exec(u.trim()) : null;
    return match?.[1] !== undefined && match[2] !== undefined
      ? t.success(Number(match[1]) * (UNIT_MS[match[2]] ?? 1))
      : t.failure(u, c);
  },
  (ms) => `${ms}ms`,
);

const int = (min: number, max: number) =>
  t.refinement(t.number, (n): boolean => Number.isInteger(n) && n >= min && n <= max, `integer from ${min} to ${max}`);
const text = (what: string, pattern: RegExp) => t.refinement(t.string, (s): boolean => pattern.test(s), what);

const atMost = (ms: number) => t.refinement(Duration, (d): boolean => d >= 0 && d <= ms, `duration of at most ${ms}ms`);
const OptionalPath = t.union([text('non-empty path', /./), t.null]);

const isUrl = (schemes: string[], s: string): boolean => {
  try {
    return schemes.includes(new URL(s).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
};
const Url = (schemes: string[]) => t.refinement(t.string, (s): boolean => isUrl(schemes, s), `URL (${schemes.join(' or ')})`);

/** Comma-separated server URLs, e.g. the seeds of a NATS cluster (src/nats/connection.ts splits them). */
export const urlList = (s: string): string[] => s.split(',').map((u) => u.trim());
const UrlList = (schemes: string[]) =>
  t.refinement(t.string, (s): boolean => urlList(s).every((u) => isUrl(schemes, u)), `URL (${schemes.join(' or ')}), or several separated by commas`);

export const ConfigCodec = t.type({
  coordinator: t.type({
    id: text('name of 1-64 chars of A-Z a-z 0-9 . _ -', /^[A-Za-z0-9._-]{1,64}$/),
    data_dir: text('non-empty path', /./),
    metrics_port: int(0, 65535),
    // 127.0.0.1 unless a scraper on another host (a Prometheus container or pod) must reach it.
    metrics_host: text('host name or IP address', /^[A-Za-z0-9.:[\]-]+$/),
    log_level: t.keyof({ fatal: null, error: null, warn: null, info: null, debug: null, trace: null }),
  }),
  etcd: t.type({
    endpoints: t.array(Url(['http', 'https'])),
    dial_timeout: Duration,
    prefix: text('etcd key prefix like /jzse (starts with /, no trailing /)', /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/),
    lease_ttl: Duration,
  }),
  nats: t.type({
    // One server, or several of a cluster (comma-separated): the client starts from any that answers.
    url: t.union([UrlList(['nats', 'tls']), t.null]),
    stream: text('stream name of A-Z a-z 0-9 _ -', /^[A-Za-z0-9_-]{1,64}$/),
    replicas: int(1, 5),
    duplicate_window: Duration,
    max_bytes: int(0, Number.MAX_SAFE_INTEGER),
    // The coordinator's own NATS user; its password is read from password_file (never from the YAML).
    user: t.union([text('NATS user name of 1-64 chars of A-Z a-z 0-9 . _ -', /^[A-Za-z0-9._-]{1,64}$/), t.null]),
    password_file: OptionalPath,
  }),
  sync: t.type({
    default_strategy: t.keyof({ eager: null, lazy: null, on_demand: null }),
    batch_size: int(1, 10_000),
    broadcast_timeout: Duration,
    flush_interval: Duration,
    max_backoff: Duration,
    request_retention: Duration,
  }),
  conflict: t.type({
    default_strategy: t.keyof({ last_writer_wins: null, merge: null, manual: null, fork: null }),
    auto_resolve: t.boolean,
  }),
  health: t.type({
    heartbeat_interval: Duration,
    degraded_after_missed: int(1, 1000),
    offline_after: Duration,
  }),
  grpc: t.type({
    host: text('host name or IP address', /^[A-Za-z0-9.:[\]-]+$/),
    port: int(0, 65535),
    max_message_bytes: int(1024, 64 * 1024 * 1024),
    wait_timeout: Duration,
    reflection: t.boolean,
    tls_cert: OptionalPath,
    tls_key: OptionalPath,
    tls_client_ca: OptionalPath,
  }),
  rest: t.type({
    host: text('host name or IP address', /^[A-Za-z0-9.:[\]-]+$/),
    port: int(0, 65535),
    // Origins a browser may call from (CORS); empty: no CORS headers at all.
    cors_origins: t.array(Url(['http', 'https'])),
    body_limit_bytes: int(1024, 64 * 1024 * 1024),
  }),
  auth: t.type({
    enabled: t.boolean,
    // The bound on how long any instance may act on a token verdict: revocations hold within it.
    cache_ttl: atMost(1000),
    admin_token_file: OptionalPath,
  }),
  database: t.type({
    url: t.union([Url(['postgres', 'postgresql']), t.null]),
  }),
  projector: t.type({
    batch_events: int(1, 100_000),
    max_txn_ops: int(2, 10_000),
    max_txn_bytes: int(1024, 64 * 1024 * 1024),
  }),
});

export type Config = t.TypeOf<typeof ConfigCodec>;

/** Raw defaults, in the same form a YAML file would give them. */
export const DEFAULTS = {
  coordinator: { id: 'coordinator-1', data_dir: '.jzse', metrics_port: 9464, metrics_host: '127.0.0.1', log_level: 'info' },
  // No endpoints / url: start etcd and nats-server as child processes (the embedded local stack).
  etcd: { endpoints: [], dial_timeout: '5s', prefix: '/jzse', lease_ttl: '5s' },
  // user null: no credentials, or with the embedded server and auth on, `jzse-coordinator` with the
  // password made once in <data_dir>/nats-coordinator.password (password_file null: that file).
  nats: { url: null, stream: 'JZSE_EVENTS', replicas: 1, duplicate_window: '2m', max_bytes: 0, user: null, password_file: null },
  // broadcast_timeout: how long a region has to ack a request before it is asked again (doubling).
  sync: { default_strategy: 'lazy', batch_size: 100, broadcast_timeout: '10s', flush_interval: '1s', max_backoff: '5m', request_retention: '168h' },
  conflict: { default_strategy: 'last_writer_wins', auto_resolve: true },
  health: { heartbeat_interval: '5s', degraded_after_missed: 3, offline_after: '60s' },
  // port 0: any free port (tests); wait_timeout bounds wait_for_view when the call has no deadline.
  grpc: { host: '127.0.0.1', port: 50051, max_message_bytes: 1_048_576, wait_timeout: '10s', reflection: true, tls_cert: null, tls_key: null, tls_client_ca: null },
  // port 0: any free port; cors_origins empty: CORS off.
  rest: { host: '127.0.0.1', port: 8080, cors_origins: [], body_limit_bytes: 1_048_576 },
  // admin_token_file null: <data_dir>/admin.token, where the first start writes the first admin's token.
  auth: { enabled: true, cache_ttl: '500ms', admin_token_file: null },
  // url null: the identity store is PGlite (embedded PostgreSQL) under <data_dir>/identity.
  database: { url: null },
  // etcd 3.4 defaults: --max-txn-ops 128, --max-request-bytes 1.5 MiB; keep headroom for the fence.
  projector: { batch_events: 1000, max_txn_ops: 120, max_txn_bytes: 1_400_000 },
} as const;
