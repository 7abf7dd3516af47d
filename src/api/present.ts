// View records → API messages (the shapes @grpc/proto-loader serializes). The point reads encode
// files and locations without them (wire.ts); test/unit/wire.test.ts holds the two to the same bytes.
import type { VectorClock } from '../../streams/events.js';
import { effectiveRegionState } from '../../projections/health.js';
import type { ConflictRecord, FileRecord, PendingChange, RegionLocation, RegionRecord, RejectedEntry, VersionSnapshot } from '../../projections/view.js';

export type ProtoTimestamp = { seconds: string; nanos: number };

export const timestamp = (iso: string | null | undefined): ProtoTimestamp | null => {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
};

const clock = (c: VectorClock): Record<string, string> => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)]));

const STATE = { synced: 'SYNCED', syncing: 'SYNCING', stale: 'STALE' } as const;

export const location = (l: RegionLocation) => ({
  region_id: l.regionId,
  state: STATE[l.state],
  last_sync_at: timestamp(l.lastSyncAt),
  vector_clock: clock(l.clock),
});

export const globalFile = (f: FileRecord) => ({
  metadata: {
    file_id: f.fileId,
    path: f.path,
    size: String(f.size),
    checksum: f.checksum,
    modified_at: timestamp(f.modifiedAt),
    vector_clock: clock(f.clock),
    deleted: f.deleted,
    attributes: f.attributes,
  },
  locations: f.locations.map(location),
  primary: f.primary,
  replicas: f.replicas,
  origin_region: f.version.region,
  origin_event_id: f.version.eventId,
  origin_sequence: String(f.version.seq),
  versions: String(f.versions),
  synced_copies: syncedCopies(f),
  under_replicated: !f.deleted && syncedCopies(f) < f.replicas,
});

const syncedCopies = (f: FileRecord): number => f.locations.filter((l) => l.state === 'synced').length;

const version = (v: VersionSnapshot) => ({
  event_id: v.eventId,
  region_id: v.region,
  at: timestamp(v.at),
  sequence: String(v.seq ?? 0),
  metadata: {
    file_id: v.file.fileId,
    path: v.file.path,
    size: String(v.file.size),
    checksum: v.file.checksum,
    modified_at: timestamp(v.file.modifiedAt),
    vector_clock: clock(v.clock),
    deleted: v.deleted,
    attributes: v.file.attributes ?? {},
  },
});

export const conflict = (c: ConflictRecord) => ({
  conflict_id: c.id,
  file_id: c.fileId,
  local_version: version(c.local),
  remote_version: version(c.remote),
  detected_at: timestamp(c.detectedAt),
  detected_sequence: String(c.detectedSeq),
  strategy: c.strategy,
  status: c.status,
  winner: c.resolution?.winner ?? '',
});

const REGION_STATE = { healthy: 'HEALTHY', degraded: 'DEGRADED', offline: 'OFFLINE' } as const;

export const region = (r: RegionRecord, pendingChanges = 0) => ({
  pending_changes: String(pendingChanges),
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  location: { latitude: r.location.latitude, longitude: r.location.longitude, name: r.location.name ?? '' },
  capacity: { total_bytes: String(r.capacity.totalBytes) },
  status: {
    state: REGION_STATE[effectiveRegionState(r)],
    sync_lag: String(r.status.syncLag),
    storage_used: String(r.status.storageUsed),
    load_level: r.status.loadLevel,
  },
  joined_at: timestamp(r.joinedAt),
  last_seen_at: timestamp(r.lastSeenAt),
  active: r.active,
});

export const pending = (p: PendingChange) => ({
  file_id: p.fileId,
  event_id: p.eventId,
  sequence: String(p.seq),
  vector_clock: clock(p.clock),
  deleted: p.deleted,
});

export const rejectionOf = (r: RejectedEntry) => ({
  sequence: String(r.seq),
  event_id: r.eventId ?? '',
  type: r.type ?? '',
  region: r.region ?? '',
  code: r.code ?? '',
  field: r.field ?? '',
  reason: r.reason,
  subject: r.subject,
  stored_at: timestamp(r.storedAt),
});
