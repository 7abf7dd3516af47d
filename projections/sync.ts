// What the leader should ask regions to sync at `now`: a pure function of the view, so the
// decision is testable and the record of what was sent (sync.requested) is in the log.
import { effectiveRegionState } from './health.js';
import { policyFor } from './policies.js';
import type { VectorClock } from '../streams/events.js';
import type { PendingChange, View } from './view.js';

export type SyncSettings = {
  /** Lazy requests per region are sent when this many are waiting... */
  readonly batchSize: number;
  /** ...or when the oldest has waited this long. */
  readonly flushIntervalMs: number;
  /** No ack this long after a request: ask again, doubling the wait each attempt... */
  readonly ackTimeoutMs: number;
  /** ...up to this. */
  readonly maxBackoffMs: number;
};

export type SyncItem = {
  readonly fileId: string;
  readonly eventId: string;
  readonly seq: number;
  readonly clock: VectorClock;
  readonly deleted: boolean;
  readonly attempt: number;
};

export type SyncDispatch = { readonly region: string; readonly reason: 'eager' | 'lazy' | 'on_demand' | 'retry'; readonly items: readonly SyncItem[] };

const item = (p: PendingChange, attempt: number): SyncItem => ({
  fileId: p.fileId, eventId: p.eventId, seq: p.seq, clock: p.clock, deleted: p.deleted, attempt,
});

export const retryDueAt = (p: PendingChange, s: SyncSettings): number =>
  p.requested == null
    ? Number.NaN
    : Date.parse(p.requested.at) + Math.min(s.maxBackoffMs, s.ackTimeoutMs * 2 ** (p.requested.attempt - 1));

export const syncStrategyOf = (view: View, p: PendingChange) => policyFor(view, view.files.get(p.fileId)?.path ?? '').sync;

/** When a lazy entry starts counting towards the flush interval (+∞: entries stored before `since` existed). */
export const lazySince = (p: PendingChange): number => (p.since === undefined ? Number.POSITIVE_INFINITY : Date.parse(p.since));

/**
 * Where a pending entry stands, without the clock: `idle` entries wait for an event (a demand, the
 * region's return, a policy change); `retry` ones for `dueAt`; the rest for the dispatch rules.
 */
export type Lane =
  | { readonly kind: 'eager' | 'on_demand' }
  | { readonly kind: 'lazy'; readonly since: number }
  | { readonly kind: 'retry'; readonly dueAt: number; readonly attempt: number }
  | { readonly kind: 'idle' };

const IDLE: Lane = { kind: 'idle' };

export const laneOf = (view: View, p: PendingChange, s: SyncSettings): Lane => {
  const region = view.regions.get(p.regionId);
  if (region === undefined || !region.active || effectiveRegionState(region) === 'offline') return IDLE;
  // `requested` and `since` are absent from entries stored before sync requests existed.
  if (p.requested != null) return { kind: 'retry', dueAt: retryDueAt(p, s), attempt: p.requested.attempt + 1 };
  const strategy = syncStrategyOf(view, p);
  if (strategy === 'lazy') return { kind: 'lazy', since: lazySince(p) };
  if (strategy === 'eager') return { kind: 'eager' };
  return p.demanded === true ? { kind: 'on_demand' } : IDLE;
};

/** Sync order within a region: by stream sequence, then file (one event can leave several files pending). */
export const bySeq = (a: PendingChange, b: PendingChange): number =>
  a.seq - b.seq || (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : 0);

/** How many of a region's `waiting` lazy entries (in sync order) go now: full batches, the rest once its oldest has waited the flush interval. */
export const lazyDue = (waiting: readonly PendingChange[], t: number, s: SyncSettings): number => {
  const full = waiting.length - (waiting.length % s.batchSize);
  const oldest = waiting.slice(full).reduce((m, p) => Math.min(m, lazySince(p)), Number.POSITIVE_INFINITY);
  return oldest + s.flushIntervalMs <= t ? waiting.length : full;
};

const chunks = <T>(xs: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/**
 * Eager versions go at once; lazy ones per region in full batches, and what is left once the
 * oldest of it has waited the flush interval; on-demand ones once the region has asked for them
 * (sync.demanded). Unacked requests are repeated with backoff. Offline regions are sent nothing
 * until they return. `candidates`: decide over these keys only (the dispatcher's index).
 */
export const decideSync = (view: View, now: string, s: SyncSettings, candidates?: Iterable<string>): SyncDispatch[] => {
  const t = Date.parse(now);
  const byRegion = new Map<string, { eager: SyncItem[]; demanded: SyncItem[]; lazy: PendingChange[]; retry: SyncItem[] }>();
  const entries = candidates === undefined
    ? [...view.pending.values()]
    : [...candidates].flatMap((k) => { const p = view.pending.get(k); return p === undefined ? [] : [p]; });
  for (const p of entries.sort(bySeq)) {
    const lane = laneOf(view, p, s);
    if (lane.kind === 'idle' || (lane.kind === 'retry' && lane.dueAt > t)) continue;
    const slot = byRegion.get(p.regionId) ?? { eager: [], demanded: [], lazy: [], retry: [] };
    byRegion.set(p.regionId, slot);
    if (lane.kind === 'retry') slot.retry.push(item(p, lane.attempt));
    else if (lane.kind === 'eager') slot.eager.push(item(p, 1));
    else if (lane.kind === 'lazy') slot.lazy.push(p);
    else slot.demanded.push(item(p, 1));
  }
  const out: SyncDispatch[] = [];
  for (const [region, slot] of [...byRegion.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const c of chunks(slot.eager, s.batchSize)) out.push({ region, reason: 'eager', items: c });
    for (const c of chunks(slot.demanded, s.batchSize)) out.push({ region, reason: 'on_demand', items: c });
    const lazy = slot.lazy.slice(0, lazyDue(slot.lazy, t, s)).map((p) => item(p, 1));
    for (const c of chunks(lazy, s.batchSize)) out.push({ region, reason: 'lazy', items: c });
    for (const c of chunks(slot.retry, s.batchSize)) out.push({ region, reason: 'retry', items: c });
  }
  return out;
};
