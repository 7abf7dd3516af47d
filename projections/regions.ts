// The regions aggregate: membership by newest-wins on (time, event id), liveness from heartbeats,
// and the leader's health verdicts.
import * as E from 'fp-ts/lib/Either.js';
import type { RegionDeregistered, RegionHealth, RegionHeartbeat, RegionRegistered } from '../streams/events.js';
import { APPLIED, DUPLICATE, type Decision } from './decision.js';
import { compareStamps, effectiveAt, put, remember, type Draft } from './draft.js';
import { dropRegionPending } from './pending.js';
import { notRegisteredRegion, rejection, type Rejection } from './rejection.js';
import type { LogEntry, RegionRecord, View } from './view.js';

const INITIAL_STATUS = { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0 } as const;

const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

export type RegionEvent = RegionRegistered | RegionDeregistered | RegionHeartbeat | RegionHealth;

export const decideRegion = (view: View, entry: LogEntry, event: RegionEvent): E.Either<Rejection, Decision> => {
  const existing = view.regions.get(event.region);
  if (existing?.recentEventIds.includes(event.id)) return E.right(DUPLICATE);
  const at = effectiveAt(event.at, entry.storedAt);
  if (event.type === 'region.registered' || event.type === 'region.deregistered') {
    if (event.type === 'region.deregistered' && (existing === undefined || !existing.active)) return E.left(notRegisteredRegion(event.region));
    if (existing !== undefined && compareStamps({ at, eventId: event.id }, existing.membership) <= 0) {
      return E.left(rejection('stale', 'at', `older than the region's latest membership change ${existing.membership.eventId} at ${existing.membership.at}`));
    }
    return E.right(APPLIED);
  }
  if (existing === undefined || !existing.active) return E.left(notRegisteredRegion(event.region));
  if (event.type === 'region.heartbeat') {
    return Date.parse(at) < Date.parse(existing.lastSeenAt)
      ? E.left(rejection('stale', 'at', `${at} is older than the region's last sign of life ${existing.lastSeenAt}`))
      : E.right(APPLIED);
  }
  // The verdict names the sign of life it judged; one overtaken by a newer sign is refused.
  return Date.parse(event.lastSeenAt) !== Date.parse(existing.lastSeenAt)
    ? E.left(rejection('stale', 'lastSeenAt', `the verdict judged ${event.lastSeenAt}, but the region was last heard at ${existing.lastSeenAt}`))
    : E.right(APPLIED);
};

export const evolveRegion = (d: Draft, entry: LogEntry, event: RegionEvent): Draft => {
  const existing = d.view.regions.get(event.region);
  const at = effectiveAt(event.at, entry.storedAt);
  switch (event.type) {
    case 'region.registered': {
      const record: RegionRecord = {
        id: event.region,
        name: event.name,
        endpoint: event.endpoint,
        location: event.location,
        capacity: event.capacity,
        status: existing?.status ?? INITIAL_STATUS,
        active: true,
        joinedAt: existing?.active === true ? existing.joinedAt : at,
        lastSeenAt: existing === undefined ? at : later(existing.lastSeenAt, at),
        membership: { eventId: event.id, at },
        health: existing?.active === true ? existing.health : null,
        recentEventIds: remember(existing?.recentEventIds ?? [], event.id),
      };
      return put(d, 'regions', record.id, record);
    }
    case 'region.deregistered': {
      if (existing === undefined) return d;
      const record: RegionRecord = { ...existing, active: false, membership: { eventId: event.id, at }, recentEventIds: remember(existing.recentEventIds, event.id) };
      return dropRegionPending(put(d, 'regions', record.id, record), record.id);
    }
    case 'region.heartbeat':
      return existing === undefined ? d : put(d, 'regions', existing.id, {
        ...existing, status: event.status, lastSeenAt: at, recentEventIds: remember(existing.recentEventIds, event.id),
      });
    case 'region.health':
      return existing === undefined ? d : put(d, 'regions', existing.id, {
        ...existing,
        health: { state: event.state, since: at, reason: event.reason, observer: event.observer, eventId: event.id },
        recentEventIds: remember(existing.recentEventIds, event.id),
      });
  }
};
