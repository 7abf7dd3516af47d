// What the configuration means to each part, in one place: key layout under the etcd prefix, the
// sync dispatcher's and the health monitor's settings.
import type { HealthPolicy } from '../../projections/health.js';
import type { SyncSettings } from '../../projections/sync.js';
import type { Config } from './schema.js';

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
