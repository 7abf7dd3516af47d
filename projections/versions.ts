// Versions of a file and how one becomes current: shared by plain changes and by every conflict
// strategy, so locations, pending entries and provenance follow one rule.
import type { ChangeEvent, FileMetadata, VectorClock } from '../streams/events.js';
import { put, remember, type Draft } from './draft.js';
import { enqueueForRegions } from './pending.js';
import { normalizeClock } from './vectorClock.js';
import type { FileRecord, RegionLocation, LogEntry, VersionSnapshot } from './view.js';

export const DEFAULT_REPLICAS = 3;

export const metadataOf = (f: FileRecord): FileMetadata => ({
  fileId: f.fileId,
  path: f.path,
  size: f.size,
  checksum: f.checksum,
  modifiedAt: f.modifiedAt,
  attributes: f.attributes,
});

/** Explicit fields, not a spread: a literal starting with a spread of a decoded object is built on V8's slow path. */
const fileOf = (f: FileMetadata): FileMetadata => ({
  fileId: f.fileId,
  path: f.path,
  size: f.size,
  checksum: f.checksum,
  modifiedAt: f.modifiedAt,
  attributes: f.attributes ?? {},
});

export const snapshotOfFile = (f: FileRecord): VersionSnapshot => ({
  eventId: f.version.eventId,
  seq: f.version.seq,
  region: f.version.region,
  at: f.version.at,
  clock: f.clock,
  deleted: f.deleted,
  file: metadataOf(f),
  ...(f.attributeStamps === undefined ? {} : { stamps: f.attributeStamps }),
});

export const snapshotOfEvent = (e: ChangeEvent, seq: number, at: string, current: FileRecord | undefined): VersionSnapshot => ({
  eventId: e.id,
  seq,
  region: e.region,
  at,
  clock: normalizeClock(e.clock),
  deleted: e.type === 'file.deleted',
  file:
    e.type === 'file.deleted'
      ? current === undefined ? { fileId: e.fileId, path: '', size: 0, checksum: '', modifiedAt: at } : metadataOf(current)
      : fileOf(e.file),
});

const byRegion = (a: RegionLocation, b: RegionLocation): number => (a.regionId < b.regionId ? -1 : 1);

/** `holders` hold what they are set to; every other copy is out of date. */
const relocate = (locations: readonly RegionLocation[], holders: readonly RegionLocation[]): RegionLocation[] =>
  [
    ...locations.filter((l) => !holders.some((h) => h.regionId === l.regionId)).map((l) => ({ ...l, state: 'stale' as const })),
    ...holders,
  ].sort(byRegion);

export type Outcome = {
  readonly winner: VersionSnapshot;
  readonly clock: VectorClock;
  /** Regions whose copies are now known; the rest become stale. */
  readonly holders: readonly RegionLocation[];
  /** The region that needs no pending entry (it holds exactly this version), if any. */
  readonly upToDate: string | null;
  /** Set on registration: a new file (or one registered again after a delete) starts afresh. */
  readonly replicas?: number;
};

/** Writes the outcome as the file's new version, caused by `causeId`. */
export const install = (d: Draft, msg: LogEntry, previous: FileRecord | undefined, o: Outcome, causeId: string): Draft => {
  const fresh = previous === undefined || (previous.deleted && o.replicas !== undefined);
  const file = o.winner.file;
  const record: FileRecord = {
    fileId: file.fileId,
    path: file.path,
    size: file.size,
    checksum: file.checksum,
    modifiedAt: file.modifiedAt,
    attributes: file.attributes ?? {},
    deleted: o.winner.deleted,
    clock: o.clock,
    locations: relocate(fresh ? [] : previous.locations, o.holders),
    primary: fresh ? o.winner.region : previous.primary,
    replicas: o.replicas ?? previous?.replicas ?? DEFAULT_REPLICAS,
    version: { eventId: o.winner.eventId, seq: o.winner.seq, region: o.winner.region, at: o.winner.at },
    versions: (previous?.versions ?? 0) + 1,
    recentEventIds: remember(previous?.recentEventIds ?? [], causeId),
    openConflicts: fresh ? [] : previous.openConflicts ?? [],
    ...(o.winner.stamps === undefined ? {} : { attributeStamps: o.winner.stamps }),
  };
  return enqueueForRegions(put(d, 'files', record.fileId, record), {
    fileId: record.fileId,
    eventId: causeId,
    seq: msg.seq,
    clock: o.clock,
    deleted: record.deleted,
    since: msg.storedAt,
    except: o.upToDate,
  });
};

/** A version installed as it came: its origin holds it. */
export const applied = (snapshot: VersionSnapshot, replicas?: number): Outcome => ({
  winner: snapshot,
  clock: snapshot.clock,
  holders: [{ regionId: snapshot.region, state: 'synced', lastSyncAt: snapshot.at, clock: snapshot.clock }],
  upToDate: snapshot.region,
  ...(replicas === undefined ? {} : { replicas }),
});

/** The regions that wrote these versions hold them (not the resolved one): stale, with their clocks. */
export const holdersOf = (versions: readonly VersionSnapshot[]): RegionLocation[] =>
  versions
    .filter((v, i, all) => all.findIndex((w) => w.region === v.region) === i)
    .map((v): RegionLocation => ({ regionId: v.region, state: 'stale', lastSyncAt: v.at, clock: v.clock }));
