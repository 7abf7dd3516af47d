// What the Prometheus gauges say about the view this instance holds: per registered region its
// state, last heartbeat and reported load; conflicts by status and strategy. Computed once per view
// (a scrape reads several gauges from one reading), from the view alone.
import { effectiveRegionState, type HealthState } from '../../projections/health.js';
import type { ConflictRecord, View } from '../../projections/view.js';

export const REGION_STATES: readonly HealthState[] = ['healthy', 'degraded', 'offline'];
export const CONFLICT_STATUSES: readonly ConflictRecord['status'][] = ['open', 'resolved'];
export const CONFLICT_STRATEGIES: readonly ConflictRecord['strategy'][] = ['last_writer_wins', 'merge', 'manual', 'fork'];

export type RegionReading = {
  readonly region: string;
  readonly state: HealthState;
  /** Unix seconds of the region's last heartbeat (or registration). */
  readonly lastSeen: number;
  readonly storageUsedBytes: number;
  readonly loadRatio: number;
};

export type ViewReadings = {
  readonly regions: readonly RegionReading[];
  /** Every status × strategy pair, zeros included, so each series exists before its first conflict. */
  readonly conflicts: ReadonlyArray<{ readonly status: ConflictRecord['status']; readonly strategy: ConflictRecord['strategy']; readonly count: number }>;
};

export const viewReadings = (view: View): ViewReadings => {
  // Deregistered regions leave the gauges: the region label is bounded by the registered regions.
  const regions = [...view.regions.values()].filter((r) => r.active).map((r) => ({
    region: r.id,
    state: effectiveRegionState(r),
    lastSeen: Date.parse(r.lastSeenAt) / 1000,
    storageUsedBytes: r.status.storageUsed,
    loadRatio: r.status.loadLevel,
  }));
  const counts = new Map<string, number>();
  for (const c of view.conflicts.values()) counts.set(`${c.status}/${c.strategy}`, (counts.get(`${c.status}/${c.strategy}`) ?? 0) + 1);
  const conflicts = CONFLICT_STATUSES.flatMap((status) => CONFLICT_STRATEGIES.map((strategy) => ({ status, strategy, count: counts.get(`${status}/${strategy}`) ?? 0 })));
  return { regions, conflicts };
};

/** viewReadings, recomputed only when the view changed since the last call. */
export const cachedReadings = (): ((view: View) => ViewReadings) => {
  let last: { view: View; readings: ViewReadings } | undefined;
  return (view) => {
    if (last?.view !== view) last = { view, readings: viewReadings(view) };
    return last.readings;
  };
};
