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

/**
 * Whether a pending entry can become due without anything new happening to it: unrequested eager,
 * lazy or demanded entries can; requested ones wait for their retry time; undemanded on-demand
 * entries and entries of offline regions wait for an event (a demand, the region's return).
 */
export const candidacy = (view: View, p: PendingChange, s: SyncSettings): { keep: boolean; retryAt?: number } => {
  if (p.requested != null) return { keep: false, retryAt: retryDueAt(p, s) };
  const region = view.regions.get(p.regionId);
  if (region === undefined || !region.active || effectiveRegionState(region) === 'offline') return { keep: false };
  return { keep: syncStrategyOf(view, p) !== 'on_demand' || p.demanded === true };
};

const chunks = <T>(xs: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/**
 * Eager versions go at once; lazy ones in batches per region (full batch or flush interval);
 * on-demand ones once the region has asked for them (sync.demanded). Unacked requests are repeated with backoff.
 * Offline regions are sent nothing until they return.
 */
export const decideSync = (view: View, now: string, s: SyncSettings, candidates?: Iterable<string>): SyncDispatch[] => {
  const t = Date.parse(now);
  const byRegion = new Map<string, { eager: SyncItem[]; demanded: SyncItem[]; lazy: PendingChange[]; retry: SyncItem[] }>();
  const entries = candidates === undefined
    ? [...view.pending.values()]
    : [...candidates].flatMap((k) => { const p = view.pending.get(k); return p === undefined ? [] : [p]; });
  for (const p of entries.sort((a, b) => a.seq - b.seq || (a.regionId < b.regionId ? -1 : 1))) {
    const region = view.regions.get(p.regionId);
    if (region === undefined || !region.active || effectiveRegionState(region) === 'offline') continue;
    const slot = byRegion.get(p.regionId) ?? { eager: [], demanded: [], lazy: [], retry: [] };
    byRegion.set(p.regionId, slot);
    // `requested` and `since` are absent from entries stored before sync requests existed.
    if (p.requested != null) {
      if (retryDueAt(p, s) <= t) slot.retry.push(item(p, p.requested.attempt + 1));
      continue;
    }
    const strategy = syncStrategyOf(view, p);
    if (strategy === 'eager') slot.eager.push(item(p, 1));
    else if (strategy === 'lazy') slot.lazy.push(p);
    else if (p.demanded === true) slot.demanded.push(item(p, 1));
  }
  const out: SyncDispatch[] = [];
  for (const [region, slot] of [...byRegion.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const c of chunks(slot.eager, s.batchSize)) out.push({ region, reason: 'eager', items: c });
    for (const c of chunks(slot.demanded, s.batchSize)) out.push({ region, reason: 'on_demand', items: c });
    const oldest = Math.min(...slot.lazy.map((p) => Date.parse(p.since ?? now)));
    if (slot.lazy.length >= s.batchSize || (slot.lazy.length > 0 && oldest + s.flushIntervalMs <= t)) {
      for (const c of chunks(slot.lazy.map((p) => item(p, 1)), s.batchSize)) out.push({ region, reason: 'lazy', items: c });
    }
    for (const c of chunks(slot.retry, s.batchSize)) out.push({ region, reason: 'retry', items: c });
  }
  return out;
};
