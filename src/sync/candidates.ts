// Which pending entries the dispatcher has to look at: those the last batches touched, those whose
// retry time has come, and all of a region's once it comes back. Looking only at these keeps a
// leader with hundreds of thousands of pending entries from spending its time re-scanning them.
import { effectiveRegionState } from '../../projections/health.js';
import type { Touched } from '../../projections/draft.js';
import { candidacy, type SyncSettings } from '../../projections/sync.js';
import type { View } from '../../projections/view.js';

/** A min-heap of (due time, key). */
class DueQueue {
  private heap: Array<[number, string]> = [];
  push(due: number, key: string): void {
    const h = this.heap;
    h.push([due, key]);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (h[parent]![0] <= h[i]![0]) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }
  /** Removes and returns every key due at or before `now`. */
  popDue(now: number): string[] {
    const out: string[] = [];
    const h = this.heap;
    while (h.length > 0 && h[0]![0] <= now) {
      out.push(h[0]![1]);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]![0] < h[m]![0]) m = l;
        if (r < h.length && h[r]![0] < h[m]![0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return out;
  }
}

export class SyncCandidates {
  private keys: Set<string> | undefined;
  private readonly due = new DueQueue();
  private readonly regionStates = new Map<string, string>();

  constructor(private readonly settings: SyncSettings) {}

  /** After a committed batch: its pending entries, and all of a region's if its state changed. */
  noteCommitted(view: View, touched: readonly Touched[]): void {
    if (this.keys === undefined) return;
    for (const t of touched) {
      if (t.collection === 'pending') this.keys.add(t.key);
      if (t.collection !== 'regions') continue;
      const region = view.regions.get(t.key);
      const state = region === undefined ? 'gone' : `${String(region.active)}:${effectiveRegionState(region)}`;
      if (this.regionStates.get(t.key) === state) continue;
      this.regionStates.set(t.key, state);
      for (const key of view.pending.keys()) if (key.startsWith(`${t.key}/`)) this.keys.add(key);
    }
  }

  /** The keys to consider at `now` (every pending key the first time). */
  current(view: View, now: number): Set<string> {
    if (this.keys === undefined) {
      this.keys = new Set(view.pending.keys());
      for (const [id, region] of view.regions) this.regionStates.set(id, `${String(region.active)}:${effectiveRegionState(region)}`);
    }
    for (const key of this.due.popDue(now)) this.keys.add(key);
    return this.keys;
  }

  /** Drops what cannot become due by itself; requested entries wait in the due queue. */
  prune(view: View): void {
    if (this.keys === undefined) return;
    for (const key of this.keys) {
      const p = view.pending.get(key);
      const c = p === undefined ? { keep: false } : candidacy(view, p, this.settings);
      if (c.keep) continue;
      this.keys.delete(key);
      if (c.retryAt !== undefined) this.due.push(c.retryAt, key);
    }
  }
}
