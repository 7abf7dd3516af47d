// The one projection runner: folds log entries through the decider, tracks what changed (a journal
// per cut, O(records changed)), and recovers from a reducer that throws. Every fold in the code —
// the leader's projector, a standby, a rebuild, an audit — goes through it.
//
// Inside a run the big collections are edited in place (Immutable's transient maps) and frozen at
// each cut; that is what makes a batch cheaper than its events. Regions and policies stay
// persistent: they are tiny and rarely change.
import { judge, park, type Verdict } from './decider.js';
import { Journal, type Touched } from './draft.js';
import type { Collection, LogEntry, View } from './view.js';

const thaw = (v: View): View => ({
  seq: v.seq, files: v.files.asMutable(), regions: v.regions, pending: v.pending.asMutable(),
  conflicts: v.conflicts.asMutable(), rejected: v.rejected.asMutable(), policies: v.policies,
});

// A collection the run did not change stays the very map it was.
const frozen = <M extends View[Collection]>(m: M, was: M): M => (m.wasAltered() ? (m.asImmutable() as M) : was);

const freeze = (v: View, was: View): View => ({
  seq: v.seq, files: frozen(v.files, was.files), regions: v.regions, pending: frozen(v.pending, was.pending),
  conflicts: frozen(v.conflicts, was.conflicts), rejected: frozen(v.rejected, was.rejected), policies: v.policies,
});

const withSeq = (v: View, seq: number): View =>
  v.seq === seq ? v : { seq, files: v.files, regions: v.regions, pending: v.pending, conflicts: v.conflicts, rejected: v.rejected, policies: v.policies };

/** Bounds what a rebuild after a throw replays, and what the runner holds for a long run. */
const SEGMENT = 8192;

export type Cut = {
  /** Persistent: safe to keep, share and serialize while the runner goes on. */
  readonly view: View;
  /** Every record changed since the previous cut, once each, in the order first changed. */
  readonly touched: readonly Touched[];
};

export class Runner {
  /** The last persistent view: a throw rebuilds from it. */
  private base: View;
  private working: View;
  /** Entries applied since `base`, replayed by a rebuild. */
  private since: LogEntry[] = [];
  private journal = new Journal();
  /** The journal's size at `base`. */
  private journalAtBase = 0;

  constructor(view: View) {
    this.base = view;
    this.working = thaw(view);
  }

  get seq(): number {
    return this.working.seq;
  }

  /** Entries at or below the view's sequence are skipped (null): the log is folded exactly once. */
  apply(entry: LogEntry): Verdict | null {
    if (entry.seq <= this.working.seq) return null;
    let verdict: Verdict;
    try {
      const r = judge({ view: this.working, journal: this.journal }, entry);
      this.working = withSeq(r.draft.view, entry.seq);
      verdict = r.verdict;
      this.since.push(entry);
    } catch (error) {
      // The throw may have edited the transient maps: rebuild from the last persistent view, then
      // park the event on that clean state.
      this.rebuild();
      const r = park({ view: this.working, journal: this.journal }, entry, error);
      this.working = withSeq(r.draft.view, entry.seq);
      verdict = r.verdict;
      this.advanceBase();
      return verdict;
    }
    if (this.since.length >= SEGMENT) this.advanceBase();
    return verdict;
  }

  /** The view so far, frozen, and what changed since the previous cut. */
  cut(): Cut {
    this.advanceBase();
    const touched = this.journal.entries();
    this.journal = new Journal();
    this.journalAtBase = 0;
    return { view: this.base, touched };
  }

  private advanceBase(): void {
    this.base = freeze(this.working, this.base);
    this.working = thaw(this.base);
    this.since = [];
    this.journalAtBase = this.journal.size;
  }

  private rebuild(): void {
    this.journal.truncate(this.journalAtBase);
    let view = thaw(this.base);
    for (const entry of this.since) view = withSeq(judge({ view, journal: this.journal }, entry).draft.view, entry.seq);
    this.working = view;
  }
}

/** Folds entries into a view; the same as applying them one by one. */
export const fold = (view: View, entries: Iterable<LogEntry>): View => {
  const runner = new Runner(view);
  for (const entry of entries) runner.apply(entry);
  return runner.cut().view;
};

/** One entry: the view after it, its verdict, and what it changed. */
export const evolveView = (view: View, entry: LogEntry): Cut & { readonly verdict: Verdict | null } => {
  const runner = new Runner(view);
  const verdict = runner.apply(entry);
  return { ...runner.cut(), verdict };
};
