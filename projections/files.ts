// Registrations, updates and deletes of files, ordered by vector clocks. A CONCURRENT change is a
// conflict: recorded with both versions and settled here by last-writer-wins.
import type { ChangeEvent, FileMetadata, VectorClock } from '../streams/events.js';
import { compareStamps, effectiveAt, put, reject, remember, type Draft } from './draft.js';
import { enqueueForRegions } from './pending.js';
import { compareVectorClocks, counterOf, mergeVectorClocks, normalizeClock } from './vectorClock.js';
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
  seq: f.version.seq,
  region: f.version.region,
  at: f.version.at,
  clock: f.clock,
  deleted: f.deleted,
  file: metadataOf(f),
});

const snapshotOfEvent = (e: ChangeEvent, seq: number, at: string, current: FileRecord | undefined): VersionSnapshot => ({
  eventId: e.id,
  seq,
  region: e.region,
  at,
  clock: normalizeClock(e.clock),
  deleted: e.type === 'file.deleted',
  file:
    e.type === 'file.deleted'
      ? current === undefined ? { fileId: e.fileId, path: '', size: 0, checksum: '', modifiedAt: at } : metadataOf(current)
      : { ...e.file, attributes: e.file.attributes ?? {} },
});

const byRegion = (a: RegionLocation, b: RegionLocation): number => (a.regionId < b.regionId ? -1 : 1);

/** `holders` hold what they are set to; every other copy is out of date. */
const relocate = (locations: readonly RegionLocation[], holders: readonly RegionLocation[]): RegionLocation[] =>
  [
    ...locations.filter((l) => !holders.some((h) => h.regionId === l.regionId)).map((l) => ({ ...l, state: 'stale' as const })),
    ...holders,
  ].sort(byRegion);

type Outcome = {
  readonly winner: VersionSnapshot;
  readonly clock: VectorClock;
  /** Regions whose copies are now known; the rest become stale. */
  readonly holders: readonly RegionLocation[];
  /** The region that needs no pending entry (it holds exactly this version), if any. */
  readonly upToDate: string | null;
  readonly replicas?: number;
};

/** Writes the outcome as the file's new version, caused by `causeId`. */
const install = (d: Draft, msg: StoredEvent, previous: FileRecord | undefined, o: Outcome, causeId: string): Draft => {
  const fresh = previous === undefined || (previous.deleted && o.replicas !== undefined);
  const record: FileRecord = {
    ...o.winner.file,
    attributes: o.winner.file.attributes ?? {},
    deleted: o.winner.deleted,
    clock: o.clock,
    locations: relocate(fresh ? [] : previous.locations, o.holders),
    primary: fresh ? o.winner.region : previous.primary,
    replicas: o.replicas ?? previous?.replicas ?? DEFAULT_REPLICAS,
    version: { eventId: o.winner.eventId, seq: o.winner.seq, region: o.winner.region, at: o.winner.at },
    versions: (previous?.versions ?? 0) + 1,
    recentEventIds: remember(previous?.recentEventIds ?? [], causeId),
  };
  return enqueueForRegions(put(d, 'files', record.fileId, record), {
    fileId: record.fileId,
    eventId: causeId,
    seq: msg.seq,
    clock: o.clock,
    deleted: record.deleted,
    except: o.upToDate,
  });
};

const applied = (snapshot: VersionSnapshot, replicas?: number): Outcome => ({
  winner: snapshot,
  clock: snapshot.clock,
  holders: [{ regionId: snapshot.region, state: 'synced', lastSyncAt: snapshot.at, clock: snapshot.clock }],
  upToDate: snapshot.region,
  ...(replicas === undefined ? {} : { replicas }),
});

/**
 * Both versions are kept in the conflict record. The winner's content gets the merged clock, which
 * no region holds yet: every region (the winner's origin too) is asked to take the resolved version.
 */
const lastWriterWins = (d: Draft, msg: StoredEvent, current: FileRecord, event: ChangeEvent, at: string): Draft => {
  const local = snapshotOfFile(current);
  const remote = snapshotOfEvent(event, msg.seq, at, current);
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
  const holders = [local, remote]
    .filter((v, i, all) => all.findIndex((w) => w.region === v.region) === i)
    .map((v): RegionLocation => ({ regionId: v.region, state: 'stale', lastSyncAt: v.at, clock: v.clock }));
  return install(put(d, 'conflicts', conflict.id, conflict), msg, current, {
    winner: remoteWins ? remote : local,
    clock: mergeVectorClocks(current.clock, event.clock),
    holders,
    upToDate: null,
  }, event.id);
};

const showClock = (c: VectorClock): string => JSON.stringify(normalizeClock(c));

export const applyChange = (d: Draft, msg: StoredEvent, event: ChangeEvent): Draft => {
  const fileId = event.type === 'file.deleted' ? event.fileId : event.file.fileId;
  const current = d.view.files.get(fileId);
  if (current?.recentEventIds.includes(event.id)) return d;
  const region = d.view.regions.get(event.region);
  if (region === undefined || !region.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  if (counterOf(event.clock, event.region) < 1) {
    return reject(d, msg, event.id, event.type, `clock.${event.region}: the origin region's counter must be >= 1 on its own change`);
  }
  const at = effectiveAt(event.at, msg.storedAt);
  const clock = normalizeClock(event.clock);

  if (event.type === 'file.registered') {
    const reborn = current?.deleted === true && compareVectorClocks(clock, current.clock) === 'AFTER';
    if (current !== undefined && !reborn) {
      return reject(d, msg, event.id, event.type, `file.fileId: ${fileId} is already registered`);
    }
    return install(d, msg, current, applied(snapshotOfEvent(event, msg.seq, at, current), event.replicas ?? DEFAULT_REPLICAS), event.id);
  }
  if (current === undefined) {
    return reject(d, msg, event.id, event.type, `fileId: ${fileId} is not registered`);
  }
  switch (compareVectorClocks(clock, current.clock)) {
    case 'EQUAL':
      // Nothing to apply, but the id is remembered so a late duplicate of it stays a no-op.
      return put(d, 'files', fileId, { ...current, recentEventIds: remember(current.recentEventIds, event.id) });
    case 'BEFORE':
      return reject(d, msg, event.id, event.type,
        `clock: ${showClock(clock)} is before the file's current clock ${showClock(current.clock)} (stale write)`);
    case 'AFTER':
      // An update that dominates a delete brings the file back: the writer saw the delete.
      return install(d, msg, current, applied(snapshotOfEvent(event, msg.seq, at, current)), event.id);
    case 'CONCURRENT':
      return lastWriterWins(d, msg, current, event, at);
  }
};
