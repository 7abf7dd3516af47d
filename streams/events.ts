// The event vocabulary, schema version 1. docs/events.md is the region-facing description of
// these codecs; test/unit/eventsDoc.test.ts keeps the two in step.
import * as t from 'io-ts';
import {
  Attributes, Count, Fraction, Id, Instant, Latitude, Longitude, NonEmptyText, PositiveCount,
  RegionId, Text, VectorClock,
} from './codecs.js';

export const SCHEMA_VERSION = 1;

// Records stored in the view are exact: unknown fields are dropped at decode, never stored.
export const FileMetadata = t.intersection([
  t.exact(t.type({
    fileId: Id,
    path: NonEmptyText(4096),
    size: Count,
    checksum: Text(256),
    modifiedAt: Instant,
  })),
  t.exact(t.partial({ attributes: Attributes })),
]);
export type FileMetadata = t.TypeOf<typeof FileMetadata>;

const envelope = <T extends string>(type: T) =>
  t.type({ schema: t.literal(SCHEMA_VERSION), id: Id, type: t.literal(type), at: Instant });

const regionEnvelope = <T extends string>(type: T) =>
  t.intersection([envelope(type), t.type({ region: RegionId })]);

const operatorEnvelope = <T extends string>(type: T) =>
  t.intersection([envelope(type), t.type({ operator: NonEmptyText(256) })]);

export const FileRegistered = t.intersection([
  regionEnvelope('file.registered'),
  t.type({ file: FileMetadata, clock: VectorClock }),
  t.partial({ replicas: PositiveCount }),
]);
export const FileUpdated = t.intersection([
  regionEnvelope('file.updated'),
  t.type({ file: FileMetadata, clock: VectorClock }),
]);
export const FileDeleted = t.intersection([
  regionEnvelope('file.deleted'),
  t.type({ fileId: Id, clock: VectorClock }),
]);

export const AckedVersion = t.exact(t.type({ fileId: Id, clock: VectorClock }));
export const AckedVersions = t.refinement(t.array(AckedVersion), (a): boolean => a.length >= 1 && a.length <= 1000, '1 to 1000 acked versions');
export const SyncAcked = t.intersection([regionEnvelope('sync.acked'), t.type({ files: AckedVersions })]);

export const RegionState = t.keyof({ healthy: null, degraded: null, offline: null });
export const RegionStatus = t.exact(t.type({ state: RegionState, syncLag: Count, storageUsed: Count, loadLevel: Fraction }));
export const GeoLocation = t.intersection([
  t.exact(t.type({ latitude: Latitude, longitude: Longitude })),
  t.exact(t.partial({ name: Text(256) })),
]);
export const StorageCapacity = t.exact(t.type({ totalBytes: Count }));

export const RegionRegistered = t.intersection([
  regionEnvelope('region.registered'),
  t.type({ name: NonEmptyText(256), endpoint: NonEmptyText(512), location: GeoLocation, capacity: StorageCapacity }),
]);
export const RegionDeregistered = t.intersection([
  regionEnvelope('region.deregistered'),
  t.partial({ reason: Text(1024) }),
]);
export const RegionHeartbeat = t.intersection([regionEnvelope('region.heartbeat'), t.type({ status: RegionStatus })]);
/** A region asks for files it holds on-demand copies of: the leader then requests them. */
export const DemandedFileIds = t.refinement(t.array(Id), (a): boolean => a.length >= 1 && a.length <= 1000, '1 to 1000 file ids');
export const SyncDemanded = t.intersection([regionEnvelope('sync.demanded'), t.type({ fileIds: DemandedFileIds })]);

/** Appended by the leading coordinator after it published sync requests to a region. */
export const RequestedVersion = t.exact(t.type({ fileId: Id, eventId: Id, attempt: PositiveCount }));
export const RequestedVersions = t.refinement(t.array(RequestedVersion), (a): boolean => a.length >= 1 && a.length <= 10_000, '1 to 10000 requested files');
export const SyncRequested = t.intersection([
  regionEnvelope('sync.requested'),
  t.type({ observer: NonEmptyText(256), files: RequestedVersions }),
]);

/** Appended by the leading coordinator when a region misses heartbeats, and when it is heard again. */
export const RegionHealth = t.intersection([
  regionEnvelope('region.health'),
  t.type({ state: RegionState, observer: NonEmptyText(256), lastSeenAt: Instant, reason: Text(1024) }),
]);

export const ConflictChoice = t.union([
  t.type({ keep: t.keyof({ local: null, remote: null }) }),
  t.type({ merged: FileMetadata }),
]);
export const ConflictResolved = t.intersection([
  operatorEnvelope('conflict.resolved'),
  t.type({ conflictId: Id, choice: ConflictChoice }),
]);

export const SyncStrategy = t.keyof({ eager: null, lazy: null, on_demand: null });
export const ConflictStrategy = t.keyof({ last_writer_wins: null, merge: null, manual: null, fork: null });
export const PolicySet = t.intersection([
  operatorEnvelope('policy.set'),
  t.type({ pattern: NonEmptyText(1024) }),
  t.partial({ sync: SyncStrategy, conflict: ConflictStrategy }),
]);

/** Every event type, by its `type` field; decoding dispatches on it for precise errors. */
export const eventCodecs = {
  'file.registered': FileRegistered,
  'file.updated': FileUpdated,
  'file.deleted': FileDeleted,
  'sync.acked': SyncAcked,
  'sync.requested': SyncRequested,
  'sync.demanded': SyncDemanded,
  'region.registered': RegionRegistered,
  'region.deregistered': RegionDeregistered,
  'region.heartbeat': RegionHeartbeat,
  'region.health': RegionHealth,
  'conflict.resolved': ConflictResolved,
  'policy.set': PolicySet,
} as const;

/**
 * Events made of independent entries (docs/events.md, rule 7): the fold decodes each entry on its
 * own, applies the good ones and rejects each bad one alone. `array` is the entries' codec (with
 * its bounds), `entry` one entry's.
 */
export const entryArrays = {
  'sync.acked': { field: 'files', array: AckedVersions, entry: AckedVersion, min: 1, max: 1000 },
  'sync.requested': { field: 'files', array: RequestedVersions, entry: RequestedVersion, min: 1, max: 10_000 },
  'sync.demanded': { field: 'fileIds', array: DemandedFileIds, entry: Id, min: 1, max: 1000 },
} as const;
export type MultiEntryType = keyof typeof entryArrays;

/** An entry the fold could not decode: its position in the event's array and why, `files.3.fileId: expected …`. */
export type InvalidEntry = { readonly index: number; readonly reason: string };
/**
 * Set by decodeEvent only, never sent: the entries that failed to decode (the event's array holds
 * the others, in order). A field of that name on the wire is refused like any unknown field.
 */
export type WithInvalidEntries = { readonly invalidEntries?: readonly InvalidEntry[] };

/** Position in the event as sent of each decoded entry (they skip the invalid ones). */
export const entryIndexes = (count: number, invalid: readonly InvalidEntry[] = []): number[] => {
  const skipped = new Set(invalid.map((x) => x.index));
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!skipped.has(i)) out.push(i);
  return out;
};

export type EventType = keyof typeof eventCodecs;
export type EventOf<K extends EventType> = t.TypeOf<(typeof eventCodecs)[K]> & (K extends MultiEntryType ? WithInvalidEntries : unknown);
export type FileRegistered = EventOf<'file.registered'>;
export type FileUpdated = EventOf<'file.updated'>;
export type FileDeleted = EventOf<'file.deleted'>;
export type ChangeEvent = FileRegistered | FileUpdated | FileDeleted;
export type SyncAcked = EventOf<'sync.acked'>;
export type SyncRequested = EventOf<'sync.requested'>;
export type SyncDemanded = EventOf<'sync.demanded'>;
export type RegionRegistered = EventOf<'region.registered'>;
export type RegionDeregistered = EventOf<'region.deregistered'>;
export type RegionHeartbeat = EventOf<'region.heartbeat'>;
export type RegionHealth = EventOf<'region.health'>;
export type ConflictResolved = EventOf<'conflict.resolved'>;
export type PolicySet = EventOf<'policy.set'>;
export type RegionStatus = t.TypeOf<typeof RegionStatus>;
export type VectorClock = t.TypeOf<typeof VectorClock>;
export type CoordinatorEvent = { [K in EventType]: EventOf<K> }[EventType];

export const isEventType = (s: unknown): s is EventType =>
  typeof s === 'string' && Object.prototype.hasOwnProperty.call(eventCodecs, s);

