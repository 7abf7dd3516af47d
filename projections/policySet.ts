// The policies aggregate: operators' sync/conflict strategy per path pattern, newest wins.
import * as E from 'fp-ts/lib/Either.js';
import type { PolicySet } from '../streams/events.js';
import { APPLIED, DUPLICATE, type Decision } from './decision.js';
import { compareStamps, effectiveAt, put, remember, type Draft } from './draft.js';
import { rejection, type Rejection } from './rejection.js';
import type { LogEntry, View } from './view.js';

export const decidePolicy = (view: View, entry: LogEntry, event: PolicySet): E.Either<Rejection, Decision> => {
  const existing = view.policies.get(event.pattern);
  if (existing?.recentEventIds.includes(event.id)) return E.right(DUPLICATE);
  const at = effectiveAt(event.at, entry.storedAt);
  return existing !== undefined && compareStamps({ at, eventId: event.id }, existing) <= 0
    ? E.left(rejection('stale', 'at', `older than the pattern's latest policy ${existing.eventId} at ${existing.at}`))
    : E.right(APPLIED);
};

export const evolvePolicy = (d: Draft, entry: LogEntry, event: PolicySet): Draft => {
  const existing = d.view.policies.get(event.pattern);
  return put(d, 'policies', event.pattern, {
    pattern: event.pattern,
    sync: event.sync ?? null,
    conflict: event.conflict ?? null,
    eventId: event.id,
    at: effectiveAt(event.at, entry.storedAt),
    operator: event.operator,
    recentEventIds: remember(existing?.recentEventIds ?? [], event.id),
  });
};
