// Registrations, updates and deletes of files, ordered by vector clocks. A CONCURRENT change is a
// conflict: recorded with both versions and settled here by last-writer-wins.
import type { ChangeEvent, FileMetadata, VectorClock } from '../streams/events.js';
import { compareStamps, effectiveAt, put, reject, remember, type Draft } from './draft.js';
import { enqueueForRegions } from './pending.js';
import { compareVectorClocks, mergeVectorClocks, normalizeClock } from './vectorClock.js';
import type { ConflictRecord, FileRecord, RegionLocation, StoredEvent, VersionSnapshot } from './view.js';

const DEFAULT_REPLICAS = 3;

const metadataOf = (f: FileRecord): FileMetadata => ({
  fileId: f.fileId,
  path: f.path,
  size: f.size,
  checksum: f.checksum,
  modifiedAt: f.modifiedAt,
  attributes: f.attributes,
});

const snapshotOfFile = (f: FileRecord): VersionSnapshot => ({
  eventId: f.version.eventId,
  region: f.version.region,
  at: f.version.at,
  clock: f.clock,
  deleted: f.deleted,
  file: metadataOf(f),
});

const snapshotOfEvent = (e: ChangeEvent, at: string, current: FileRecord): VersionSnapshot => ({
  eventId: e.id,
  region: e.region,
  at,
  clock: normalizeClock(e.clock),
  deleted: e.type === 'file.deleted',
  file: e.type === 'file.deleted' ? metadataOf(current) : { ...e.file, attributes: e.file.attributes ?? {} },
});

/** The origin now holds the version; every other copy is out of date. */
const relocate = (locations: readonly RegionLocation[], origin: string, clock: VectorClock, at: string): RegionLocation[] =>
  [
    ...locations.filter((l) => l.regionId !== origin).map((l) => ({ ...l, state: 'stale' as const })),
    { regionId: origin, state: 'synced' as const, lastSyncAt: at, clock },
  ].sort((a, b) => (a.regionId < b.regionId ? -1 : 1));

/** Writes `winner` (content and origin) as the file's new version under `clock`. */
const install = (
  d: Draft,
  msg: StoredEvent,
  previous: FileRecord | undefined,
  winner: VersionSnapshot,
  clock: VectorClock,
  causeId: string,
  replicas?: number,
): Draft => {
  const fresh = previous === undefined || (previous.deleted && !winner.deleted && replicas !== undefined);
  const record: FileRecord = {
    ...winner.file,
    attributes: winner.file.attributes ?? {},
    deleted: winner.deleted,
    clock,
    locations: relocate(fresh ? [] : previous.locations, winner.region, clock, winner.at),
    primary: fresh ? winner.region : previous.primary,
    replicas: replicas ?? previous?.replicas ?? DEFAULT_REPLICAS,
    version: { eventId: winner.eventId, seq: msg.seq, region: winner.region, at: winner.at },
    versions: (previous?.versions ?? 0) + 1,
    recentEventIds: remember(previous?.recentEventIds ?? [], causeId),
  };
  const withFile = put(d, 'files', record.fileId, record);
  return enqueueForRegions(withFile, {
    fileId: record.fileId,
    eventId: causeId,
    seq: msg.seq,
    clock,
    deleted: record.deleted,
    except: winner.region,
  });
};

const lastWriterWins = (d: Draft, msg: StoredEvent, current: FileRecord, event: ChangeEvent, at: string): Draft => {
  const local = snapshotOfFile(current);
  const remote = snapshotOfEvent(event, at, current);
  const remoteWins = compareStamps(remote, local) > 0;
  const conflict: ConflictRecord = {
    id: event.id,
    fileId: current.fileId,
    local,
    remote,
    detectedAt: at,
    detectedSeq: msg.seq,
    strategy: 'last_writer_wins',
    status: 'resolved',
    resolution: { winner: remoteWins ? 'remote' : 'local', by: 'last_writer_wins', at, eventId: event.id },
  };
  const recorded = put(d, 'conflicts', conflict.id, conflict);
  return install(recorded, msg, current, remoteWins ? remote : local, mergeVectorClocks(current.clock, event.clock), event.id);
};

const showClock = (c: VectorClock): string => JSON.stringify(normalizeClock(c));

export const applyChange = (d: Draft, msg: StoredEvent, event: ChangeEvent): Draft => {
  const region = d.view.regions.get(event.region);
  if (region === undefined || !region.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  if ((event.clock[event.region] ?? 0) < 1) {
    return reject(d, msg, event.id, event.type, `clock.${event.region}: the origin region's counter must be >= 1 on its own change`);
  }
  const fileId = event.type === 'file.deleted' ? event.fileId : event.file.fileId;
  const current = d.view.files.get(fileId);
  if (current?.recentEventIds.includes(event.id)) return d;
  const at = effectiveAt(event.at, msg.storedAt);
  const clock = normalizeClock(event.clock);

  if (event.type === 'file.registered') {
    const reborn = current?.deleted === true && compareVectorClocks(clock, current.clock) === 'AFTER';
    if (current !== undefined && !reborn) {
      return reject(d, msg, event.id, event.type, `file.fileId: ${fileId} is already registered`);
    }
    const snapshot: VersionSnapshot = { eventId: event.id, region: event.region, at, clock, deleted: false, file: event.file };
    return install(d, msg, current, snapshot, clock, event.id, event.replicas ?? DEFAULT_REPLICAS);
  }
  if (current === undefined) {
    return reject(d, msg, event.id, event.type, `fileId: ${fileId} is not registered`);
  }
  switch (compareVectorClocks(clock, current.clock)) {
    case 'EQUAL':
      return d;
    case 'BEFORE':
      return reject(d, msg, event.id, event.type,
        `clock: ${showClock(clock)} is before the file's current clock ${showClock(current.clock)} (stale write)`);
    case 'AFTER':
      return install(d, msg, current, snapshotOfEvent(event, at, current), clock, event.id);
    case 'CONCURRENT':
      return lastWriterWins(d, msg, current, event, at);
  }
};
