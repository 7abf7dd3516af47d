// What each region still has to apply: one entry per (region, file), always the newest version.
import { entryIndexes, type SyncAcked, type SyncDemanded, type SyncRequested } from '../streams/events.js';
import { effectiveAt, put, reject, remember, remove, type Draft } from './draft.js';
import { compareVectorClocks, normalizeClock } from './vectorClock.js';
import { pendingKey, type FileRecord, type PendingChange, type RegionLocation, type StoredEvent } from './view.js';

type Enqueue = Omit<PendingChange, 'regionId' | 'requested' | 'demanded'> & {
  /** The region that already holds this version, if any. */
  readonly except: string | null;
};

const activeRegionIds = (d: Draft): string[] => {
  const ids: string[] = [];
  d.view.regions.forEach((r) => {
    if (r.active) ids.push(r.id);
  });
  return ids.sort();
};

export const enqueueForRegions = (d: Draft, change: Enqueue): Draft => {
  const { except, fileId } = change;
  let next = except === null ? d : remove(d, 'pending', pendingKey(except, fileId));
  for (const regionId of activeRegionIds(d)) {
    if (regionId === except) continue;
    next = put(next, 'pending', pendingKey(regionId, fileId), {
      regionId, fileId, eventId: change.eventId, seq: change.seq, clock: change.clock, deleted: change.deleted, since: change.since, requested: null,
    });
  }
  return next;
};

export const dropRegionPending = (d: Draft, regionId: string): Draft => {
  const keys = [...d.view.pending.keys()].filter((k) => k.startsWith(`${regionId}/`)).sort();
  return keys.reduce((acc, key) => remove(acc, 'pending', key), d);
};

const withLocation = (file: FileRecord, location: RegionLocation): FileRecord => ({
  ...file,
  locations: [...file.locations.filter((l) => l.regionId !== location.regionId), location].sort((a, b) =>
    a.regionId < b.regionId ? -1 : 1,
  ),
});

/** A region says it holds these versions. Only the current version marks a copy synced. */
export const applyAck = (d: Draft, msg: StoredEvent, event: SyncAcked): Draft => {
  const region = d.view.regions.get(event.region);
  if (region?.recentEventIds.includes(event.id)) return d;
  if (region === undefined || !region.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  let next = put(d, 'regions', region.id, { ...region, recentEventIds: remember(region.recentEventIds, event.id) });
  const at = effectiveAt(event.at, msg.storedAt);
  // Entries that failed to decode are rejected alone (rule 7); `i` is each entry's place as sent.
  const problems: string[] = (event.invalidEntries ?? []).map((x) => x.reason);
  const sentAt = entryIndexes(event.files.length, event.invalidEntries);
  event.files.forEach((ack, k) => {
    const i = sentAt[k] ?? k;
    const file = next.view.files.get(ack.fileId);
    if (file === undefined) {
      problems.push(`files.${i}.fileId: ${ack.fileId} is not registered`);
      return;
    }
    const clock = normalizeClock(ack.clock);
    const held = file.locations.find((l) => l.regionId === region.id);
    switch (compareVectorClocks(clock, file.clock)) {
      case 'EQUAL': {
        if (held?.state !== 'synced') {
          next = put(next, 'files', file.fileId, withLocation(file, { regionId: region.id, state: 'synced', lastSyncAt: at, clock }));
        }
        next = remove(next, 'pending', pendingKey(region.id, file.fileId));
        return;
      }
      case 'BEFORE': {
        if (held === undefined) {
          next = put(next, 'files', file.fileId, withLocation(file, { regionId: region.id, state: 'stale', lastSyncAt: at, clock }));
        }
        return;
      }
      default:
        problems.push(`files.${i}.clock: ${JSON.stringify(clock)} is not a version of ${file.fileId} the coordinator has seen`);
    }
  });
  return problems.length === 0 ? next : reject(next, msg, event.id, event.type, `partially applied: ${problems.join('; ')}`);
};

/** Entries that failed to decode were left out of the event: each is rejected, the rest applied (rule 7). */
const partially = (d: Draft, msg: StoredEvent, event: SyncDemanded | SyncRequested): Draft =>
  event.invalidEntries === undefined || event.invalidEntries.length === 0
    ? d
    : reject(d, msg, event.id, event.type, `partially applied: ${event.invalidEntries.map((x) => x.reason).join('; ')}`);

/** A region asks for on-demand files; files it owes nothing for are ignored (already current). */
export const applySyncDemanded = (d: Draft, msg: StoredEvent, event: SyncDemanded): Draft => {
  const region = d.view.regions.get(event.region);
  if (region?.recentEventIds.includes(event.id)) return d;
  if (region === undefined || !region.active) return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  let next = put(d, 'regions', region.id, { ...region, recentEventIds: remember(region.recentEventIds, event.id) });
  for (const fileId of event.fileIds) {
    const key = pendingKey(event.region, fileId);
    const entry = next.view.pending.get(key);
    if (entry !== undefined && entry.demanded !== true) next = put(next, 'pending', key, { ...entry, demanded: true });
  }
  return partially(next, msg, event);
};

/**
 * The leader asked a region to sync these versions. Requests for versions no longer pending
 * (acked or superseded meanwhile) change nothing; the rest are marked, and the copy is `syncing`.
 */
export const applySyncRequested = (d: Draft, msg: StoredEvent, event: SyncRequested): Draft => {
  const region = d.view.regions.get(event.region);
  if (region === undefined) return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  const at = effectiveAt(event.at, msg.storedAt);
  let next = d;
  for (const item of event.files) {
    const key = pendingKey(event.region, item.fileId);
    const entry = next.view.pending.get(key);
    if (entry === undefined || entry.eventId !== item.eventId || ((entry.requested ?? null)?.attempt ?? 0) >= item.attempt) continue;
    next = put(next, 'pending', key, { ...entry, requested: { at, attempt: item.attempt } });
    const file = next.view.files.get(item.fileId);
    const held = file?.locations.find((l) => l.regionId === event.region);
    if (file !== undefined && held?.state !== 'syncing') {
      next = put(next, 'files', file.fileId, withLocation(file, { regionId: event.region, state: 'syncing', lastSyncAt: held?.lastSyncAt ?? null, clock: held?.clock ?? {} }));
    }
  }
  return partially(next, msg, event);
};
