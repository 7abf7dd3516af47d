// Operators' events: sync/conflict policies per path pattern, and resolutions of open conflicts.
import type { ConflictResolved, PolicySet } from '../streams/events.js';
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

export const applyConflictResolved = (d: Draft, msg: StoredEvent, event: ConflictResolved): Draft => {
  const conflict = d.view.conflicts.get(event.conflictId);
  if (conflict === undefined) {
    return reject(d, msg, event.id, event.type, `conflictId: no conflict ${event.conflictId}`);
  }
  if (conflict.resolution?.eventId === event.id) return d;
  // Only manual conflicts stay open; they arrive with the conflict strategies (issue 4).
  return reject(d, msg, event.id, event.type,
    `conflictId: ${event.conflictId} is ${conflict.status}${conflict.resolution ? ` (by ${conflict.resolution.by})` : ''}`);
};
