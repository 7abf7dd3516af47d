// The global metadata view: what the log says, as of `seq`. Plain JSON records inside persistent
// maps, so a fold step copies only what it changes.
import { Map as IMap } from 'immutable';
import type { CoordinatorEvent, FileMetadata, RegionStatus, VectorClock } from '../streams/events.js';
import type { RejectionCode } from './rejection.js';

export type LocationState = 'synced' | 'syncing' | 'stale';

export type RegionLocation = {
  readonly regionId: string;
  readonly state: LocationState;
  readonly lastSyncAt: string | null;
  /** The version this region holds (or was last told about). */
  readonly clock: VectorClock;
};

/** Which event produced a record's current content, and when (effective time, see docs). */
export type Provenance = { readonly eventId: string; readonly seq: number; readonly region: string; readonly at: string };

export type FileRecord = {
  readonly fileId: string;
  readonly path: string;
  readonly size: number;
  readonly checksum: string;
  readonly modifiedAt: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly deleted: boolean;
  readonly clock: VectorClock;
  readonly locations: readonly RegionLocation[];
  readonly primary: string;
  readonly replicas: number;
  readonly version: Provenance;
  /** Change events applied to this file (registrations, updates, deletes, conflict outcomes). */
  readonly versions: number;
  /** Ids of the latest applied change events: a late duplicate of one of them is a no-op. */
  readonly recentEventIds: readonly string[];
  /** Conflicts on this file waiting for an operator (manual strategy). */
  readonly openConflicts: readonly string[];
  /** After a merge: which write each attribute came from, so further merges converge. */
  readonly attributeStamps?: Readonly<Record<string, Stamp>>;
};

export type RegionRecord = {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  readonly location: { readonly latitude: number; readonly longitude: number; readonly name?: string };
  readonly capacity: { readonly totalBytes: number };
  readonly status: RegionStatus;
  readonly active: boolean;
  readonly joinedAt: string;
  readonly lastSeenAt: string;
  /** The latest registration or deregistration: older ones are refused. */
  readonly membership: { readonly eventId: string; readonly at: string };
  /** The coordinator's verdict from missed heartbeats (null: never judged, i.e. healthy). */
  readonly health: RegionHealthVerdict | null;
  readonly recentEventIds: readonly string[];
};

export type RegionHealthVerdict = {
  readonly state: 'healthy' | 'degraded' | 'offline';
  readonly since: string;
  readonly reason: string;
  readonly observer: string;
  readonly eventId: string;
};

export type PendingChange = {
  readonly regionId: string;
  readonly fileId: string;
  readonly eventId: string;
  readonly seq: number;
  readonly clock: VectorClock;
  readonly deleted: boolean;
  /** When this version became pending for the region (store time of the change). */
  readonly since: string;
  /** The leader's last sync request for it, if any (see sync.requested). */
  readonly requested: { readonly at: string; readonly attempt: number } | null;
  /** On-demand paths: the region asked for this file (absent: not asked). */
  readonly demanded?: true;
};

/** Who wrote something when: the last-writer-wins order key. */
export type Stamp = { readonly at: string; readonly region: string; readonly eventId: string };

export type VersionSnapshot = {
  /** Merge strategy: per attribute, the stamp of the write it came from (absent: this version's own). */
  readonly stamps?: Readonly<Record<string, Stamp>>;
  readonly eventId: string;
  readonly seq: number;
  readonly region: string;
  readonly at: string;
  readonly clock: VectorClock;
  readonly deleted: boolean;
  readonly file: FileMetadata;
};

export type ConflictRecord = {
  readonly id: string;
  readonly fileId: string;
  readonly local: VersionSnapshot;
  readonly remote: VersionSnapshot;
  readonly detectedAt: string;
  readonly detectedSeq: number;
  readonly strategy: 'last_writer_wins' | 'merge' | 'manual' | 'fork';
  readonly status: 'open' | 'resolved';
  readonly resolution: { readonly winner: 'local' | 'remote' | 'merged'; readonly by: string; readonly at: string; readonly eventId: string } | null;
  /** Fork strategy: the file the losing version was kept as. */
  readonly fork: string | null;
  /** Why the strategy applied differs from the policy's, if it does. */
  readonly note: string | null;
};

export type RejectedEntry = {
  readonly key: string;
  readonly seq: number;
  readonly subject: string;
  readonly storedAt: string;
  readonly eventId: string | null;
  readonly type: string | null;
  /** The region the event names (null: undecodable, or an operator's event). */
  readonly region: string | null;
  /** Who published it, as proven (LogEntry.principal): beside what it claims, for the forgeries. */
  readonly principal: string | null;
  readonly code: RejectionCode;
  /** The event's field that was wrong (`(event)` when it is the whole event). */
  readonly field: string;
  /** `field: why`, for people. */
  readonly reason: string;
};

export type PolicyRecord = {
  readonly pattern: string;
  readonly sync: string | null;
  readonly conflict: string | null;
  readonly eventId: string;
  readonly at: string;
  readonly operator: string;
  readonly recentEventIds: readonly string[];
};

export type View = {
  /** Stream sequence of the last event folded in (0: none). */
  readonly seq: number;
  readonly files: IMap<string, FileRecord>;
  readonly regions: IMap<string, RegionRecord>;
  /** Keyed `${regionId}/${fileId}`: the latest version each region still has to apply. */
  readonly pending: IMap<string, PendingChange>;
  readonly conflicts: IMap<string, ConflictRecord>;
  readonly rejected: IMap<string, RejectedEntry>;
  readonly policies: IMap<string, PolicyRecord>;
};

export type Collection = Exclude<keyof View, 'seq'>;
export const COLLECTIONS: readonly Collection[] = ['files', 'regions', 'pending', 'conflicts', 'rejected', 'policies'];
export type RecordOf<C extends Collection> = View[C] extends IMap<string, infer V> ? V : never;

export const emptyView = (): View => ({
  seq: 0,
  files: IMap(),
  regions: IMap(),
  pending: IMap(),
  conflicts: IMap(),
  rejected: IMap(),
  policies: IMap(),
});

export const pendingKey = (regionId: string, fileId: string): string => `${regionId}/${fileId}`;

/** A message as stored in the stream, before decoding. */
export type StoredEvent = {
  readonly seq: number;
  readonly subject: string;
  /** JetStream's store time (RFC 3339): one clock for every region. */
  readonly storedAt: string;
  readonly data: Uint8Array;
  /** The message's Jzse-Principal header; readers may leave it out where it is not trusted (a region's own subject). */
  readonly principalHeader?: string;
};

/** A stored message decoded once, at the reader: what the fold takes. */
export type LogEntry = {
  readonly seq: number;
  readonly subject: string;
  readonly storedAt: string;
  /** Who published it, as proven by its subject or the coordinator's header (streams/principal.ts); null: nothing proves it. */
  readonly principal: string | null;
} & (
  | { readonly event: CoordinatorEvent }
  /** Undecodable: why, and its id when that much could be read. */
  | { readonly event: null; readonly eventId: string | undefined; readonly error: string }
);
