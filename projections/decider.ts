// The one place an event is judged: decide (view, event) → Decision | Rejection, then evolve carries
// the decision out. The fold runs it on every event of the log; the API runs the same decide before
// appending, so a change is judged by one piece of code whichever door it came through.
import * as E from 'fp-ts/lib/Either.js';
import type { CoordinatorEvent } from '../streams/events.js';
import type { Decision } from './decision.js';
import { reject, type Draft } from './draft.js';
import { decideResolve, evolveResolve } from './conflicts.js';
import { decideChange, evolveChange } from './files.js';
import { decideSync, evolveSync, partialRejection } from './pending.js';
import { decidePolicy, evolvePolicy } from './policySet.js';
import { decideRegion, evolveRegion } from './regions.js';
import { invalidEvent, rejection, WHOLE_EVENT, type Rejection } from './rejection.js';
import type { LogEntry, View } from './view.js';

export const decide = (view: View, entry: LogEntry, event: CoordinatorEvent): E.Either<Rejection, Decision> => {
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return decideChange(view, event);
    case 'region.registered':
    case 'region.deregistered':
    case 'region.heartbeat':
    case 'region.health':
      return decideRegion(view, entry, event);
    case 'sync.acked':
    case 'sync.requested':
    case 'sync.demanded':
      return decideSync(view, event);
    case 'conflict.resolved':
      return decideResolve(view, event);
    case 'policy.set':
      return decidePolicy(view, entry, event);
  }
};

export const evolve = (d: Draft, entry: LogEntry, event: CoordinatorEvent, decision: Decision): Draft => {
  if (decision.kind === 'duplicate') return d;
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return evolveChange(d, entry, event, decision);
    case 'region.registered':
    case 'region.deregistered':
    case 'region.heartbeat':
    case 'region.health':
      return evolveRegion(d, entry, event);
    case 'sync.acked':
    case 'sync.requested':
    case 'sync.demanded':
      return evolveSync(d, entry, event, decision);
    case 'conflict.resolved':
      return evolveResolve(d, entry, event);
    case 'policy.set':
      return evolvePolicy(d, entry, event);
  }
};

/** What one log entry came to: the decision carried out, or the rejection recorded (both for a partial ack). */
export type Verdict = {
  readonly seq: number;
  readonly event: CoordinatorEvent | null;
  readonly decision: Decision | null;
  readonly rejection: Rejection | null;
};

/** Judges and applies one entry above the view's sequence. Pure; the runner owns batching and the journal. */
export const judge = (d: Draft, entry: LogEntry): { readonly draft: Draft; readonly verdict: Verdict } => {
  const { event } = entry;
  if (event === null) {
    const r = invalidEvent(entry.error);
    return { draft: reject(d, entry, r, entry.eventId), verdict: { seq: entry.seq, event, decision: null, rejection: r } };
  }
  // An id names one attempt: once rejected, a later copy of it changes nothing.
  if (d.view.rejected.has(event.id)) return { draft: d, verdict: { seq: entry.seq, event, decision: { kind: 'duplicate' }, rejection: null } };
  const decided = decide(d.view, entry, event);
  if (E.isLeft(decided)) return { draft: reject(d, entry, decided.left), verdict: { seq: entry.seq, event, decision: null, rejection: decided.left } };
  const decision = decided.right;
  const done = evolve(d, entry, event, decision);
  const partial = partialRejection(decision);
  return partial === undefined
    ? { draft: done, verdict: { seq: entry.seq, event, decision, rejection: null } }
    : { draft: reject(done, entry, partial), verdict: { seq: entry.seq, event, decision, rejection: partial } };
};

/** A reducer bug must not stop the projection: the event is parked where operators see it. */
export const park = (d: Draft, entry: LogEntry, error: unknown): { readonly draft: Draft; readonly verdict: Verdict } => {
  const r = rejection('failed_precondition', WHOLE_EVENT, `internal error while applying: ${error instanceof Error ? error.message : String(error)}`);
  return { draft: reject(d, entry, r), verdict: { seq: entry.seq, event: entry.event, decision: null, rejection: r } };
};

/** The records `decide` reads for an event (besides, for conflict.resolved, the conflict's file). */
export type Needs = { readonly files: readonly string[]; readonly regions: readonly string[]; readonly conflicts: readonly string[]; readonly policies: readonly string[] };

export const needsOf = (event: CoordinatorEvent): Needs => {
  const none: Needs = { files: [], regions: [], conflicts: [], policies: [] };
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
      return { ...none, files: [event.file.fileId], regions: [event.region] };
    case 'file.deleted':
      return { ...none, files: [event.fileId], regions: [event.region] };
    case 'sync.acked':
      return { ...none, files: event.files.map((f) => f.fileId), regions: [event.region] };
    case 'region.registered':
    case 'region.deregistered':
    case 'region.heartbeat':
    case 'region.health':
    case 'sync.requested':
    case 'sync.demanded':
      return { ...none, regions: [event.region] };
    case 'conflict.resolved':
      return { ...none, conflicts: [event.conflictId] };
    case 'policy.set':
      return { ...none, policies: [event.pattern] };
  }
};
