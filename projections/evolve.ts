// The fold: (view, stored event) → view. Pure: no I/O, no clock; time comes from the event and
// its store time. An event that cannot be decoded or applied becomes a rejected entry.
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, salvageId } from '../streams/decode.js';
import type { CoordinatorEvent } from '../streams/events.js';
import { applyPolicySet } from './admin.js';
import { applyConflictResolved } from './conflicts.js';
import { draftOf, reject, type Draft, type Touched } from './draft.js';
import { applyChange } from './files.js';
import { applyAck, applySyncDemanded, applySyncRequested } from './pending.js';
import { applyHeartbeat, applyRegionDeregistered, applyRegionHealth, applyRegionRegistered } from './regions.js';
import type { Collection, StoredEvent, View } from './view.js';

const apply = (d: Draft, msg: StoredEvent, event: CoordinatorEvent): Draft => {
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return applyChange(d, msg, event);
    case 'sync.acked':
      return applyAck(d, msg, event);
    case 'sync.requested':
      return applySyncRequested(d, msg, event);
    case 'sync.demanded':
      return applySyncDemanded(d, msg, event);
    case 'region.registered':
      return applyRegionRegistered(d, msg, event);
    case 'region.deregistered':
      return applyRegionDeregistered(d, msg, event);
    case 'region.heartbeat':
      return applyHeartbeat(d, msg, event);
    case 'region.health':
      return applyRegionHealth(d, msg, event);
    case 'conflict.resolved':
      return applyConflictResolved(d, msg, event);
    case 'policy.set':
      return applyPolicySet(d, msg, event);
  }
};

export type Step = { readonly view: View; readonly touched: readonly Touched[]; readonly event: CoordinatorEvent | null };

/** A step whose reducer threw: the view it was given may hold part of its changes if that view was transient. */
type Failed = { readonly error: unknown; readonly event: CoordinatorEvent };

const withSeq = (v: View, seq: number): View => ({
  seq, files: v.files, regions: v.regions, pending: v.pending, conflicts: v.conflicts, rejected: v.rejected, policies: v.policies,
});

const attempt = (view: View, msg: StoredEvent): Step | Failed => {
  if (msg.seq <= view.seq) return { view, touched: [], event: null };
  const decoded = decodeEvent(msg.subject, msg.data);
  if (E.isLeft(decoded)) {
    const done = reject(draftOf(view), msg, salvageId(msg.data), undefined, decoded.left);
    return { view: withSeq(done.view, msg.seq), touched: done.touched, event: null };
  }
  const event = decoded.right;
  // An id names one attempt: once rejected, a later copy of it changes nothing.
  if (view.rejected.has(event.id)) return { view: withSeq(view, msg.seq), touched: [], event };
  let done: Draft;
  try {
    done = apply(draftOf(view), msg, event);
  } catch (error) {
    return { error, event };
  }
  return { view: withSeq(done.view, msg.seq), touched: done.touched, event };
};

// A reducer bug must not stop the projection; the event is parked where operators see it.
const parked = (view: View, msg: StoredEvent, f: Failed): Step => {
  const done = reject(draftOf(view), msg, f.event.id, f.event.type, `internal error while applying: ${(f.error as Error).message}`);
  return { view: withSeq(done.view, msg.seq), touched: done.touched, event: f.event };
};

const failed = (r: Step | Failed): r is Failed => 'error' in r;

/** Folds one stored event; `touched` lists the records it changed. Events at or below view.seq are ignored. */
export const step = (view: View, msg: StoredEvent): Step => {
  const r = attempt(view, msg);
  return failed(r) ? parked(view, msg, r) : r;
};

export const evolve = (view: View, msg: StoredEvent): View => step(view, msg).view;

// The big collections are edited in place during a batch (Immutable's transient maps) and frozen at
// its end; that is what makes a batch cheaper than its steps. Regions and policies stay persistent:
// they are tiny and rarely change.
const thaw = (v: View): View => ({
  seq: v.seq, files: v.files.asMutable(), regions: v.regions, pending: v.pending.asMutable(),
  conflicts: v.conflicts.asMutable(), rejected: v.rejected.asMutable(), policies: v.policies,
});

// A collection the batch did not change stays the very map it was.
const frozen = <M extends View[Collection]>(m: M, was: M): M => (m.wasAltered() ? (m.asImmutable() as M) : was);

const freeze = (v: View, was: View): View => ({
  seq: v.seq, files: frozen(v.files, was.files), regions: v.regions, pending: frozen(v.pending, was.pending),
  conflicts: frozen(v.conflicts, was.conflicts), rejected: frozen(v.rejected, was.rejected), policies: v.policies,
});

/** What one event did in a batch: `rejected` if it added or changed a rejected entry. */
export type Folded = { readonly seq: number; readonly event: CoordinatorEvent | null; readonly rejected: boolean };
export type Batch = {
  readonly view: View;
  /** Every record the batch changed, once each, in the order first changed. */
  readonly touched: readonly Touched[];
  /** One per message above the view's sequence, in order. */
  readonly events: readonly Folded[];
};

type Sink = (msg: StoredEvent, s: Step) => void;

const SEGMENT = 8192;

/**
 * Same result as stepping through `msgs` one by one. A step that throws has already edited the
 * transient maps, so the batch so far is rebuilt from its last persistent view (steps are
 * deterministic) and that event is then parked by the persistent path, exactly as `step` does.
 */
const foldBatch = (view: View, msgs: Iterable<StoredEvent>, sink?: Sink): View => {
  let base = view;
  let since: StoredEvent[] = [];
  let working = thaw(view);
  for (const msg of msgs) {
    const r = attempt(working, msg);
    if (!failed(r)) {
      working = r.view;
      since.push(msg);
      sink?.(msg, r);
      // Bounds what a rebuild would replay, and what `since` holds when `msgs` is a long generator.
      if (since.length >= SEGMENT) {
        base = freeze(working, base);
        since = [];
        working = thaw(base);
      }
      continue;
    }
    let rebuilt = thaw(base);
    for (const m of since) rebuilt = (attempt(rebuilt, m) as Step).view;
    const s = parked(freeze(rebuilt, base), msg, r);
    sink?.(msg, s);
    base = s.view;
    since = [];
    working = thaw(base);
  }
  return freeze(working, base);
};

export const fold = (view: View, msgs: Iterable<StoredEvent>): View => foldBatch(view, msgs);

/** `fold` that also says what changed: what the projector writes and reports for a batch. */
export const foldTouched = (view: View, msgs: Iterable<StoredEvent>): Batch => {
  const seen = new Set<string>();
  const touched: Touched[] = [];
  const events: Folded[] = [];
  const folded = foldBatch(view, msgs, (msg, s) => {
    if (msg.seq <= view.seq) return;
    let rejected = false;
    for (const t of s.touched) {
      if (t.collection === 'rejected') rejected = true;
      const id = `${t.collection}/${t.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      touched.push(t);
    }
    events.push({ seq: msg.seq, event: s.event, rejected });
  });
  return { view: folded, touched, events };
};
