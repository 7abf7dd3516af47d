// The dispatcher's index of pending entries, so that a tick costs what it sends rather than what is
// pending: ready entries (eager, demanded, retries due) and lazy ones per region in sync order,
// lazy ones also by age (flush interval), requested ones by retry time. Entries move between lanes
// as committed batches touch them; a new leader fills the index in time slices, not in one scan.
import { effectiveRegionState } from '../../projections/health.js';
import type { Touched } from '../../projections/draft.js';
import { laneOf, type SyncItem, type SyncSettings } from '../../projections/sync.js';
import { pendingKey, type PendingChange, type View } from '../../projections/view.js';
import { Heap } from './heap.js';

type Slot = {
  readonly key: string;
  readonly region: string;
  readonly fileId: string;
  readonly seq: number;
  /** `sent`: in a request whose sync.requested is not folded yet; not offered again meanwhile. */
  readonly lane: 'ready' | 'lazy' | 'waiting' | 'sent';
  readonly since: number;
  readonly dueAt: number;
  readonly eventId: string;
  readonly attempt: number;
};

const syncOrder = (a: Slot, b: Slot): boolean => a.seq < b.seq || (a.seq === b.seq && a.fileId < b.fileId);

type RegionLanes = { readonly ready: Heap<Slot>; readonly lazy: Heap<Slot>; readonly lazyByAge: Heap<Slot>; readyCount: number; lazyCount: number };

/** A request whose record the log did not take: what it asked, kept here since the view does not say. */
type Unrecorded = { readonly eventId: string; readonly attempt: number; readonly at: string };

/** What the dispatcher is told when a request it sent was not recorded by the fold. */
export type UnrecordedRequest = { readonly requestId: string; readonly key: string; readonly attempt: number };

const regionState = (view: View, id: string): string => {
  const r = view.regions.get(id);
  return r === undefined ? 'gone' : `${String(r.active)}:${effectiveRegionState(r)}`;
};

export class SyncCandidates {
  private readonly slots = new Map<string, Slot>();
  private readonly lanes = new Map<string, RegionLanes>();
  private readonly live = (s: Slot): boolean => this.slots.get(s.key) === s;
  private readonly waiting = new Heap<Slot>((a, b) => a.dueAt < b.dueAt, this.live);
  private waitingCount = 0;
  /** Requests appended at `seq`: their entries leave `sent` once the committed view reaches it. */
  private readonly requests: Array<{ readonly seq: number; readonly requestId: string; readonly at: string; readonly slots: readonly Slot[] }> = [];
  /**
   * Entries sent in a request the fold did not record (its sync.requested rejected or a no-op): the
   * view still says "never requested", and deciding from it alone would send the same request again
   * at once, forever. They are treated as requested at that attempt: retried after the backoff, with
   * attempt + 1 (so under a new request id), until the log records a request or the version moves on.
   */
  private readonly unrecorded = new Map<string, Unrecorded>();
  /** Entries still to (re)classify: the whole view after election or a policy change, a region's when its state changes. */
  private readonly scans: Array<{ readonly entries: Iterator<[string, PendingChange]>; readonly region?: string }> = [];
  private readonly regionStates = new Map<string, string>();
  private started = false;
  private committedSeq = 0;
  private turn = 0;

  constructor(private readonly settings: SyncSettings, private readonly onUnrecorded?: (r: UnrecordedRequest) => void) {}

  /** The first tick as leader: every pending entry is classified by later `scan` slices. */
  start(view: View): void {
    if (this.started) return;
    this.started = true;
    this.committedSeq = view.seq;
    for (const id of view.regions.keys()) this.regionStates.set(id, regionState(view, id));
    // Views are persistent maps, so an iterator over one stays valid across ticks while the
    // projector moves on; each entry is classified against the newest view when reached.
    this.scans.push({ entries: view.pending.entries() });
  }

  /** Classifies queued entries against `view` until `deadline` (performance.now()); true when none are left. */
  scan(view: View, deadline: number): boolean {
    for (let n = 0; this.scans.length > 0; n++) {
      if ((n & 255) === 255 && performance.now() >= deadline) return false;
      const job = this.scans[0]!;
      const next = job.entries.next();
      if (next.done === true) this.scans.shift();
      else if (job.region === undefined || next.value[1].regionId === job.region) this.classify(view, next.value[0], false);
    }
    return true;
  }

  /** After a committed batch: what it touched, and the entries whose request it folded. */
  noteCommitted(view: View, touched: readonly Touched[]): void {
    if (!this.started) return;
    this.committedSeq = view.seq;
    while (this.requests.length > 0 && this.requests[0]!.seq <= view.seq) {
      const request = this.requests.shift()!;
      for (const s of request.slots) if (this.live(s)) this.release(view, s, request.requestId, request.at);
    }
    for (const t of touched) {
      if (t.collection === 'pending') this.classify(view, t.key, false);
      else if (t.collection === 'policies') this.scans.push({ entries: view.pending.entries() });
      else if (t.collection === 'regions') {
        const state = regionState(view, t.key);
        if (this.regionStates.get(t.key) === state) continue;
        this.regionStates.set(t.key, state);
        this.scans.push({ entries: view.pending.entries(), region: t.key });
      }
    }
  }

  /** Requests appended but not yet in a committed batch. */
  outstanding(): number {
    return this.requests.length;
  }

  /**
   * Up to `budget` keys that may be due at `now`, removed from the index: ready ones, full lazy
   * batches, and a region's lazy rest once its oldest has waited the flush interval (not while the
   * region is being scanned: it may have older ones not indexed yet). The caller sends them or
   * gives them back (`sent`, `restore`).
   */
  take(now: number, budget: number): string[] {
    for (let s = this.waiting.peek(), n = 0; s !== undefined && s.dueAt <= now && n < 4 * budget; s = this.waiting.peek(), n++) {
      this.put({ ...s, lane: 'ready' });
    }
    const out: string[] = [];
    const takeOne = (heap: Heap<Slot>): void => {
      const s = heap.pop()!;
      this.put(undefined, s.key);
      out.push(s.key);
    };
    const b = this.settings.batchSize;
    const regions = [...this.lanes.keys()].sort();
    this.turn = (this.turn + 1) % Math.max(1, regions.length);
    for (const region of [...regions.slice(this.turn), ...regions.slice(0, this.turn)]) {
      const r = this.lanes.get(region)!;
      while (r.readyCount > 0 && out.length < budget) takeOne(r.ready);
      while (r.lazyCount >= b && out.length + b <= budget) for (let i = 0; i < b; i++) takeOne(r.lazy);
      const rest = r.lazyCount;
      if (rest > 0 && rest < b && out.length + rest <= budget && !this.scanning(region) && r.lazyByAge.peek()!.since + this.settings.flushIntervalMs <= now) {
        for (let i = 0; i < rest; i++) takeOne(r.lazy);
      }
      if (r.readyCount + r.lazyCount === 0 && r.ready.size + r.lazy.size === 0) this.lanes.delete(region);
      r.ready.compact(r.readyCount);
      r.lazy.compact(r.lazyCount);
      r.lazyByAge.compact(r.lazyCount);
    }
    this.waiting.compact(this.waitingCount);
    return out;
  }

  /** `items` went to `region` in request `requestId`, sent at `at`, whose record was appended at `seq`. */
  sent(view: View, seq: number, region: string, items: readonly SyncItem[], requestId = '', at = new Date().toISOString()): void {
    const slots = items.map((i): Slot => ({
      key: pendingKey(region, i.fileId), region, fileId: i.fileId, seq: i.seq, lane: 'sent', since: 0, dueAt: 0, eventId: i.eventId, attempt: i.attempt,
    }));
    for (const s of slots) this.put(s);
    // The batch holding it may already be committed (or the record was a duplicate of an older
    // event): then no later batch would release these.
    if (seq <= this.committedSeq) for (const s of slots) this.release(view, s, requestId, at);
    else this.requests.push({ seq, requestId, at, slots });
  }

  /**
   * The pending entries of `keys` as the dispatcher must judge them: those sent in a request the
   * log did not record count as requested at that attempt (see `unrecorded`).
   */
  asSent(view: View, keys: Iterable<string>): View {
    let pending = view.pending;
    for (const key of keys) {
      const p = pending.get(key);
      if (p !== undefined) {
        const asSent = this.withUnrecorded(p);
        if (asSent !== p) pending = pending.set(key, asSent);
      }
    }
    return pending === view.pending ? view : { ...view, pending };
  }

  /** Unrecorded requests being retried by this index (for tests and metrics). */
  unrecordedCount(): number {
    return this.unrecorded.size;
  }

  /** The request holding `s` is folded: if the view does not show it, remember it was sent. */
  private release(view: View, s: Slot, requestId: string, at: string): void {
    const p = view.pending.get(s.key);
    if (p !== undefined && p.eventId === s.eventId && (p.requested?.attempt ?? 0) < s.attempt) {
      const known = this.unrecorded.get(s.key);
      if (known === undefined || known.eventId !== s.eventId || known.attempt < s.attempt) {
        this.unrecorded.set(s.key, { eventId: s.eventId, attempt: s.attempt, at });
        this.onUnrecorded?.({ requestId, key: s.key, attempt: s.attempt });
      }
    }
    this.classify(view, s.key, true);
  }

  private withUnrecorded(p: PendingChange): PendingChange {
    const key = pendingKey(p.regionId, p.fileId);
    const u = this.unrecorded.get(key);
    if (u === undefined) return p;
    if (u.eventId !== p.eventId || (p.requested?.attempt ?? 0) >= u.attempt) {
      // The version moved on, or the log now records a request at least as late: the view decides.
      this.unrecorded.delete(key);
      return p;
    }
    return { ...p, requested: { at: u.at, attempt: u.attempt } };
  }

  /** Taken keys that were not sent: back to their lanes. */
  restore(view: View, keys: Iterable<string>): void {
    for (const key of keys) this.classify(view, key, true);
  }

  private scanning(region: string): boolean {
    return this.scans.some((j) => j.region === undefined || j.region === region);
  }

  /** `force`: also an entry in `sent` (its request is folded, or was never sent). */
  private classify(view: View, key: string, force: boolean): void {
    const stored = view.pending.get(key);
    const current = this.slots.get(key);
    if (!force && current?.lane === 'sent' && stored?.eventId === current.eventId && (stored.requested?.attempt ?? 0) < current.attempt) return;
    if (stored === undefined) {
      this.unrecorded.delete(key);
      return this.put(undefined, key);
    }
    const p = this.withUnrecorded(stored);
    const lane = laneOf(view, p, this.settings);
    if (lane.kind === 'idle') return this.put(undefined, key);
    const base = { key, region: p.regionId, fileId: p.fileId, seq: p.seq, since: 0, dueAt: 0, eventId: p.eventId, attempt: 0 };
    if (lane.kind === 'retry') this.put({ ...base, lane: 'waiting', dueAt: lane.dueAt });
    else if (lane.kind === 'lazy') this.put({ ...base, lane: 'lazy', since: lane.since });
    else this.put({ ...base, lane: 'ready' });
  }

  /** Replaces the key's slot (`undefined`: drops it), keeping the lane counts. */
  private put(next: Slot | undefined, key = next?.key): void {
    if (key === undefined) return;
    const current = this.slots.get(key);
    if (current !== undefined) this.count(current, -1);
    if (next === undefined) {
      this.slots.delete(key);
      return;
    }
    this.slots.set(key, next);
    this.count(next, 1);
    if (next.lane === 'waiting') this.waiting.push(next);
    else if (next.lane === 'ready') this.lanesOf(next.region).ready.push(next);
    else if (next.lane === 'lazy') {
      this.lanesOf(next.region).lazy.push(next);
      this.lanesOf(next.region).lazyByAge.push(next);
    }
  }

  private count(s: Slot, d: number): void {
    if (s.lane === 'waiting') this.waitingCount += d;
    else if (s.lane === 'ready') this.lanesOf(s.region).readyCount += d;
    else if (s.lane === 'lazy') this.lanesOf(s.region).lazyCount += d;
  }

  private lanesOf(region: string): RegionLanes {
    let r = this.lanes.get(region);
    if (r === undefined) {
      r = { ready: new Heap(syncOrder, this.live), lazy: new Heap(syncOrder, this.live), lazyByAge: new Heap((a, b) => a.since < b.since, this.live), readyCount: 0, lazyCount: 0 };
      this.lanes.set(region, r);
    }
    return r;
  }
}
