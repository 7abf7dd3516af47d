// Operators' policy events: sync/conflict strategy per path pattern, newest wins.
import type { PolicySet } from '../streams/events.js';
import { compareStamps, effectiveAt, put, reject, remember, type Draft } from './draft.js';
import type { StoredEvent } from './view.js';

export const applyPolicySet = (d: Draft, msg: StoredEvent, event: PolicySet): Draft => {
  const at = effectiveAt(event.at, msg.storedAt);
  const existing = d.view.policies.get(event.pattern);
  if (existing?.recentEventIds.includes(event.id)) return d;
  if (existing !== undefined && compareStamps({ at, eventId: event.id }, existing) <= 0) {
    return reject(d, msg, event.id, event.type, `at: older than the pattern's latest policy ${existing.eventId} at ${existing.at}`);
  }
  return put(d, 'policies', event.pattern, {
    pattern: event.pattern,
    sync: event.sync ?? null,
    conflict: event.conflict ?? null,
    eventId: event.id,
    at,
    operator: event.operator,
    recentEventIds: remember(existing?.recentEventIds ?? [], event.id),
  });
};
