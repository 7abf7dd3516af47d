// Deciding region health from missed heartbeats: a pure function of the view and an explicit
// `now`, so the leader's verdicts are events in the log and replay never consults a clock.
import type { RegionHealth } from '../streams/events.js';
import type { RegionRecord, View } from './view.js';

export type HealthPolicy = {
  readonly heartbeatIntervalMs: number;
  /** Degraded after this many intervals without a heartbeat. */
  readonly degradedAfterMissed: number;
  /** Offline after this long without a heartbeat. */
  readonly offlineAfterMs: number;
};

export type HealthState = 'healthy' | 'degraded' | 'offline';

export const verdictAt = (lastSeenAt: string, now: string, p: HealthPolicy): HealthState => {
  const silent = Date.parse(now) - Date.parse(lastSeenAt);
  if (silent > p.offlineAfterMs) return 'offline';
  if (silent > p.heartbeatIntervalMs * p.degradedAfterMissed) return 'degraded';
  return 'healthy';
};

const reasonFor = (state: HealthState, r: RegionRecord, p: HealthPolicy): string =>
  state === 'healthy'
    ? `heard from again at ${r.lastSeenAt}`
    : state === 'degraded'
      ? `no heartbeat since ${r.lastSeenAt} (more than ${p.degradedAfterMissed} intervals of ${p.heartbeatIntervalMs} ms)`
      : `no heartbeat since ${r.lastSeenAt} (more than ${p.offlineAfterMs} ms)`;

/**
 * The health events the leader should append at `now`. Ids derive from the region, the verdict and
 * the sign of life it judged, so a new leader repeating a decision appends nothing new.
 */
export const decideHealth = (view: View, now: string, policy: HealthPolicy, observer: string): RegionHealth[] =>
  [...view.regions.values()]
    .filter((r) => r.active)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .flatMap((r): RegionHealth[] => {
      const state = verdictAt(r.lastSeenAt, now, policy);
      if (state === (r.health?.state ?? 'healthy')) return [];
      return [{
        schema: 1,
        id: `health:${r.id}:${state}:${Date.parse(r.lastSeenAt)}`,
        type: 'region.health',
        at: now,
        region: r.id,
        state,
        observer,
        lastSeenAt: r.lastSeenAt,
        reason: reasonFor(state, r, policy),
      }];
    });

/** The state a reader should see: the region's own report, overridden by a worse verdict. */
export const effectiveRegionState = (r: RegionRecord): HealthState => {
  const rank = { healthy: 0, degraded: 1, offline: 2 } as const;
  const judged = r.health?.state ?? 'healthy';
  return rank[judged] > rank[r.status.state] ? judged : r.status.state;
};
