// The region registry: membership by newest-wins on (time, event id), health from heartbeats.
import type { RegionDeregistered, RegionHealth, RegionHeartbeat, RegionRegistered } from '../streams/events.js';
import { compareStamps, effectiveAt, put, reject, remember, type Draft } from './draft.js';
import { dropRegionPending } from './pending.js';
import type { RegionRecord, StoredEvent } from './view.js';

const INITIAL_STATUS = { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0 } as const;

const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

type Membership = RegionRegistered | RegionDeregistered;

/** Dedupe and order a membership change; undefined means "apply". */
const membershipGuard = (d: Draft, msg: StoredEvent, event: Membership, at: string): Draft | undefined => {
  const existing = d.view.regions.get(event.region);
  if (existing === undefined) return undefined;
  if (existing.recentEventIds.includes(event.id)) return d;
  if (compareStamps({ at, eventId: event.id }, existing.membership) <= 0) {
    return reject(d, msg, event.id, event.type,
      `at: older than the region's latest membership change ${existing.membership.eventId} at ${existing.membership.at}`);
  }
  return undefined;
};

export const applyRegionRegistered = (d: Draft, msg: StoredEvent, event: RegionRegistered): Draft => {
  const at = effectiveAt(event.at, msg.storedAt);
  const guarded = membershipGuard(d, msg, event, at);
  if (guarded !== undefined) return guarded;
  const existing = d.view.regions.get(event.region);
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
};

export const applyRegionDeregistered = (d: Draft, msg: StoredEvent, event: RegionDeregistered): Draft => {
  const existing = d.view.regions.get(event.region);
  if (existing === undefined || (!existing.active && !existing.recentEventIds.includes(event.id))) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  const at = effectiveAt(event.at, msg.storedAt);
  const guarded = membershipGuard(d, msg, event, at);
  if (guarded !== undefined) return guarded;
  const record: RegionRecord = {
    ...existing,
    active: false,
    membership: { eventId: event.id, at },
    recentEventIds: remember(existing.recentEventIds, event.id),
  };
  return dropRegionPending(put(d, 'regions', record.id, record), record.id);
};

export const applyHeartbeat = (d: Draft, msg: StoredEvent, event: RegionHeartbeat): Draft => {
  const existing = d.view.regions.get(event.region);
  if (existing?.recentEventIds.includes(event.id)) return d;
  if (existing === undefined || !existing.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  const at = effectiveAt(event.at, msg.storedAt);
  if (Date.parse(at) < Date.parse(existing.lastSeenAt)) {
    return reject(d, msg, event.id, event.type, `at: ${at} is older than the region's last sign of life ${existing.lastSeenAt}`);
  }
  return put(d, 'regions', existing.id, {
    ...existing,
    status: event.status,
    lastSeenAt: at,
    recentEventIds: remember(existing.recentEventIds, event.id),
  });
};

/** The leader's verdict. It names the sign of life it judged; a verdict overtaken by a newer one is refused. */
export const applyRegionHealth = (d: Draft, msg: StoredEvent, event: RegionHealth): Draft => {
  const existing = d.view.regions.get(event.region);
  if (existing?.recentEventIds.includes(event.id)) return d;
  if (existing === undefined || !existing.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  if (Date.parse(event.lastSeenAt) !== Date.parse(existing.lastSeenAt)) {
    return reject(d, msg, event.id, event.type,
      `lastSeenAt: the verdict judged ${event.lastSeenAt}, but the region was last heard at ${existing.lastSeenAt}`);
  }
  return put(d, 'regions', existing.id, {
    ...existing,
    health: { state: event.state, since: effectiveAt(event.at, msg.storedAt), reason: event.reason, observer: event.observer, eventId: event.id },
    recentEventIds: remember(existing.recentEventIds, event.id),
  });
};
