// View records → REST JSON: snake_case, numbers as numbers, times as RFC 3339 strings (the gRPC
// shapes in src/api/present.ts carry proto's int64-as-string and Timestamp messages instead).
import { createHash } from 'node:crypto';
import { effectiveRegionState } from '../../projections/health.js';
import type { ConflictRecord, FileRecord, PendingChange, PolicyRecord, RegionLocation, RegionRecord, RejectedEntry, VersionSnapshot } from '../../projections/view.js';
import type { Principal, TokenInfo } from '../auth/model.js';
import type { VectorClock } from '../../streams/events.js';

/** A version is its vector clock (and whether it is a delete): equal clocks, equal ETags, on any instance. */
export const fileEtag = (f: Pick<FileRecord, 'clock' | 'deleted'>): string => {
  const canonical = JSON.stringify([Object.entries(f.clock).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1)), f.deleted]);
  return `"${createHash('sha256').update(canonical).digest('base64url').slice(0, 27)}"`;
};

/** A policy's version is the event that set it. */
export const policyEtag = (p: Pick<PolicyRecord, 'eventId'>): string => `"${p.eventId}"`;

export const region = (r: RegionRecord, pendingChanges: number) => ({
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  location: { latitude: r.location.latitude, longitude: r.location.longitude, name: r.location.name ?? '' },
  capacity_bytes: r.capacity.totalBytes,
  active: r.active,
  state: effectiveRegionState(r),
  sync_lag: r.status.syncLag,
  storage_used: r.status.storageUsed,
  load_level: r.status.loadLevel,
  pending_changes: pendingChanges,
  joined_at: r.joinedAt,
  last_seen_at: r.lastSeenAt,
});

export const location = (l: RegionLocation) => ({ region_id: l.regionId, state: l.state, last_sync_at: l.lastSyncAt, vector_clock: l.clock });

const metadataOf = (m: { fileId: string; path: string; size: number; checksum: string; modifiedAt: string; attributes?: Readonly<Record<string, string>> }, clock: VectorClock, deleted: boolean) => ({
  file_id: m.fileId, path: m.path, size: m.size, checksum: m.checksum, modified_at: m.modifiedAt, vector_clock: clock, deleted, attributes: m.attributes ?? {},
});

export const file = (f: FileRecord) => {
  const synced = f.locations.filter((l) => l.state === 'synced').length;
  return {
    metadata: metadataOf(f, f.clock, f.deleted),
    locations: f.locations.map(location),
    primary: f.primary,
    replicas: f.replicas,
    origin: { region_id: f.version.region, event_id: f.version.eventId, sequence: f.version.seq },
    versions: f.versions,
    synced_copies: synced,
    under_replicated: !f.deleted && synced < f.replicas,
    etag: fileEtag(f),
  };
};

const version = (v: VersionSnapshot) => ({
  event_id: v.eventId, region_id: v.region, at: v.at, sequence: v.seq, metadata: metadataOf(v.file, v.clock, v.deleted),
});

export const conflict = (c: ConflictRecord) => ({
  conflict_id: c.id,
  file_id: c.fileId,
  path: c.local.file.path,
  status: c.status,
  strategy: c.strategy,
  detected_at: c.detectedAt,
  detected_sequence: c.detectedSeq,
  regions: [...new Set([c.local.region, c.remote.region])].sort(),
  local: version(c.local),
  remote: version(c.remote),
  resolution: c.resolution === null ? null : { winner: c.resolution.winner, by: c.resolution.by, at: c.resolution.at, event_id: c.resolution.eventId },
  fork: c.fork,
  note: c.note,
});

/** The metadata fields two versions disagree on, for showing them side by side. */
export const differences = (c: ConflictRecord) => {
  const [l, r] = [version(c.local).metadata, version(c.remote).metadata];
  return (Object.keys(l) as Array<keyof typeof l>)
    .filter((k) => JSON.stringify(l[k]) !== JSON.stringify(r[k]))
    .map((k) => ({ field: k, local: l[k], remote: r[k] }));
};

export const policy = (p: PolicyRecord) => ({ pattern: p.pattern, sync: p.sync, conflict: p.conflict, event_id: p.eventId, at: p.at, operator: p.operator, etag: policyEtag(p) });

export const pending = (p: PendingChange) => ({ file_id: p.fileId, event_id: p.eventId, sequence: p.seq, vector_clock: p.clock, deleted: p.deleted, since: p.since });

export const rejection = (r: RejectedEntry) => ({
  sequence: r.seq, event_id: r.eventId, type: r.type, region: r.region, code: r.code, field: r.field, reason: r.reason, subject: r.subject, stored_at: r.storedAt,
});

export const principal = (p: Principal) => ({ name: p.name, kind: p.kind, grants: p.grants.map((g) => ({ role: g.role, region: g.region })), created_at: p.createdAt, disabled_at: p.disabledAt });

export const token = (t: TokenInfo) => ({
  id: t.id, principal: t.principal, name: t.name, created_at: t.createdAt, expires_at: t.expiresAt, last_used_at: t.lastUsedAt, revoked_at: t.revokedAt,
});
