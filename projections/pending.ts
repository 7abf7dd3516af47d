// The sync aggregate: what each region still has to apply (one entry per (region, file), always the
// newest version), the leader's requests, regions' demands and acks.
import * as E from 'fp-ts/lib/Either.js';
import { entryIndexes, type InvalidEntry, type SyncAcked, type SyncDemanded, type SyncRequested } from '../streams/events.js';
import { DUPLICATE, APPLIED, type AckVerdict, type Decision } from './decision.js';
import { effectiveAt, put, remember, remove, type Draft } from './draft.js';
import { invalidEvent, notRegisteredRegion, rejection, type Rejection } from './rejection.js';
import { compareVectorClocks, normalizeClock } from './vectorClock.js';
import { pendingKey, type FileRecord, type LogEntry, type PendingChange, type RegionLocation, type View } from './view.js';

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

/** One pass over the pending keys, then one removal per entry of the region: linear, never quadratic. */
export const dropRegionPending = (d: Draft, regionId: string): Draft => {
  const prefix = `${regionId}/`;
  const keys: string[] = [];
  for (const k of d.view.pending.keys()) if (k.startsWith(prefix)) keys.push(k);
  keys.sort();
  let next = d;
  for (const key of keys) next = remove(next, 'pending', key);
  return next;
};

const withLocation = (file: FileRecord, location: RegionLocation): FileRecord => ({
  ...file,
  locations: [...file.locations.filter((l) => l.regionId !== location.regionId), location].sort((a, b) =>
    a.regionId < b.regionId ? -1 : 1,
  ),
});

export type SyncEvent = SyncAcked | SyncDemanded | SyncRequested;

const ackVerdict = (view: View, ack: SyncAcked['files'][number], i: number): AckVerdict => {
  const file = view.files.get(ack.fileId);
  if (file === undefined) return E.left(rejection('not_found', `files.${i}.fileId`, `${ack.fileId} is not registered`));
  const clock = normalizeClock(ack.clock);
  switch (compareVectorClocks(clock, file.clock)) {
    case 'EQUAL':
      return E.right('current');
    case 'BEFORE':
      return E.right('older');
    default:
      return E.left(rejection('failed_precondition', `files.${i}.clock`, `${JSON.stringify(clock)} is not a version of ${file.fileId} the coordinator has seen`));
  }
};

/** Entries that failed to decode were left out of the event by the decoder: each is refused alone (rule 7). */
const undecodable = (invalid: readonly InvalidEntry[] | undefined): Rejection[] => (invalid ?? []).map((x) => invalidEvent(x.reason));

const appliedSkipping = (invalid: readonly InvalidEntry[] | undefined): Decision => {
  const skipped = undecodable(invalid);
  return skipped.length === 0 ? APPLIED : { kind: 'applied', skipped };
};

export const decideSync = (view: View, event: SyncEvent): E.Either<Rejection, Decision> => {
  const region = view.regions.get(event.region);
  if (event.type === 'sync.requested') return region === undefined ? E.left(notRegisteredRegion(event.region)) : E.right(appliedSkipping(event.invalidEntries));
  if (region?.recentEventIds.includes(event.id)) return E.right(DUPLICATE);
  if (region === undefined || !region.active) return E.left(notRegisteredRegion(event.region));
  if (event.type === 'sync.demanded') return E.right(appliedSkipping(event.invalidEntries));
  // Each decoded entry judged under its place as sent; the undecodable ones come after, refused.
  const sentAt = entryIndexes(event.files.length, event.invalidEntries);
  const entries: AckVerdict[] = event.files.map((ack, k) => ackVerdict(view, ack, sentAt[k] ?? k));
  return E.right({ kind: 'acked', entries: [...entries, ...undecodable(event.invalidEntries).map((r) => E.left(r))] });
};

/**
 * A region says it holds these versions. The current version marks the copy synced and clears the
 * pending entry; an older one records what the region holds (the copy's clock only moves forward)
 * and leaves the copy stale or syncing.
 */
const evolveAck = (d: Draft, entry: LogEntry, event: SyncAcked, entries: readonly AckVerdict[]): Draft => {
  const region = d.view.regions.get(event.region);
  if (region === undefined) return d;
  let next = put(d, 'regions', region.id, { ...region, recentEventIds: remember(region.recentEventIds, event.id) });
  const at = effectiveAt(event.at, entry.storedAt);
  event.files.forEach((ack, i) => {
    const verdict = entries[i];
    const file = next.view.files.get(ack.fileId);
    if (verdict === undefined || E.isLeft(verdict) || file === undefined) return;
    const clock = normalizeClock(ack.clock);
    const held = file.locations.find((l) => l.regionId === region.id);
    if (verdict.right === 'current') {
      if (held?.state !== 'synced') next = put(next, 'files', file.fileId, withLocation(file, { regionId: region.id, state: 'synced', lastSyncAt: at, clock }));
      next = remove(next, 'pending', pendingKey(region.id, file.fileId));
      return;
    }
    if (held === undefined) {
      next = put(next, 'files', file.fileId, withLocation(file, { regionId: region.id, state: 'stale', lastSyncAt: at, clock }));
    } else if (compareVectorClocks(clock, held.clock) === 'AFTER') {
      next = put(next, 'files', file.fileId, withLocation(file, { ...held, state: held.state === 'syncing' ? 'syncing' : 'stale', lastSyncAt: at, clock }));
    }
  });
  return next;
};

/** The entries an event could not apply, as one rejection (its code and field are the first one's). */
export const partialRejection = (decision: Decision): Rejection | undefined => {
  const problems = decision.kind === 'acked'
    ? decision.entries.flatMap((v) => (E.isLeft(v) ? [v.left] : []))
    : decision.kind === 'applied' ? [...(decision.skipped ?? [])] : [];
  // In the order the entries were sent (`files.<i>…`, `fileIds.<i>`).
  const place = (r: Rejection): number => Number(/^[A-Za-z]+\.(\d+)/.exec(r.field)?.[1] ?? 0);
  const ordered = [...problems].sort((a, b) => place(a) - place(b));
  const first = ordered[0];
  return first === undefined ? undefined : { ...first, entries: ordered };
};

export const evolveSync = (d: Draft, entry: LogEntry, event: SyncEvent, decision: Decision): Draft => {
  switch (event.type) {
    case 'sync.acked':
      return decision.kind === 'acked' ? evolveAck(d, entry, event, decision.entries) : d;
    case 'sync.demanded': {
      // Files it owes nothing for are ignored (already current).
      const region = d.view.regions.get(event.region);
      if (region === undefined) return d;
      let next = put(d, 'regions', region.id, { ...region, recentEventIds: remember(region.recentEventIds, event.id) });
      for (const fileId of event.fileIds) {
        const key = pendingKey(event.region, fileId);
        const owed = next.view.pending.get(key);
        if (owed !== undefined && owed.demanded !== true) next = put(next, 'pending', key, { ...owed, demanded: true });
      }
      return next;
    }
    case 'sync.requested': {
      // Versions no longer pending (acked or superseded meanwhile) change nothing; the rest are marked, and the copy is `syncing`.
      const at = effectiveAt(event.at, entry.storedAt);
      let next = d;
      for (const item of event.files) {
        const key = pendingKey(event.region, item.fileId);
        const owed = next.view.pending.get(key);
        if (owed === undefined || owed.eventId !== item.eventId || ((owed.requested ?? null)?.attempt ?? 0) >= item.attempt) continue;
        next = put(next, 'pending', key, { ...owed, requested: { at, attempt: item.attempt } });
        const file = next.view.files.get(item.fileId);
        const held = file?.locations.find((l) => l.regionId === event.region);
        if (file !== undefined && held?.state !== 'syncing') {
          next = put(next, 'files', file.fileId, withLocation(file, { regionId: event.region, state: 'syncing', lastSyncAt: held?.lastSyncAt ?? null, clock: held?.clock ?? {} }));
        }
      }
      return next;
    }
  }
};
