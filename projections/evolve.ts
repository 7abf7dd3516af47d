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
import type { StoredEvent, View } from './view.js';

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

/** Folds one stored event; `touched` lists the records it changed. Events at or below view.seq are ignored. */
export const step = (view: View, msg: StoredEvent): Step => {
  if (msg.seq <= view.seq) return { view, touched: [], event: null };
  const decoded = decodeEvent(msg.subject, msg.data);
  const start = draftOf(view);
  if (E.isLeft(decoded)) {
    const done = reject(start, msg, salvageId(msg.data), undefined, decoded.left);
    return { view: { ...done.view, seq: msg.seq }, touched: done.touched, event: null };
  }
  const event = decoded.right;
  // An id names one attempt: once rejected, a later copy of it changes nothing.
  if (view.rejected.has(event.id)) return { view: { ...view, seq: msg.seq }, touched: [], event };
  let done: Draft;
  try {
    done = apply(start, msg, event);
  } catch (error) {
    // A reducer bug must not stop the projection; the event is parked where operators see it.
    done = reject(start, msg, event.id, event.type, `internal error while applying: ${(error as Error).message}`);
  }
  return { view: { ...done.view, seq: msg.seq }, touched: done.touched, event };
};

export const evolve = (view: View, msg: StoredEvent): View => step(view, msg).view;

export const fold = (view: View, msgs: Iterable<StoredEvent>): View => {
  let current = view;
  for (const msg of msgs) current = evolve(current, msg);
  return current;
};
