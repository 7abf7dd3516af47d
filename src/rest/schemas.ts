// The JSON shapes of the REST API, request and response, as JSON Schema (TypeBox): fastify validates
// requests and serializes responses with them, and the OpenAPI document is generated from them.
// Identifiers use the same patterns as the event codecs (streams/codecs.ts); the event codecs still
// judge every event a request becomes, so a field obeys one rule whichever door it comes through.
import { Type, type TSchema } from '@sinclair/typebox';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const FileId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'file id: 1-128 chars of A-Z a-z 0-9 . _ : -' });
export const RegionId = Type.String({ pattern: '^[a-z0-9_-]{1,64}$', description: 'region id: 1-64 chars of a-z 0-9 _ -' });
export const EventId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'event id: 1-128 chars of A-Z a-z 0-9 . _ : -' });
export const PrincipalName = Type.String({ pattern: '^[A-Za-z0-9._@:-]{1,128}$', description: 'principal name: 1-128 chars of A-Z a-z 0-9 . _ @ : -' });
export const TokenId = Type.String({ pattern: '^[a-z2-7]{16}$', description: 'token id: the 16 base32 characters after jzse_' });
export const Instant = Type.String({ format: 'date-time', maxLength: 40, description: 'RFC 3339 time, e.g. 2026-11-25T10:00:00Z' });
export const Sequence = Type.Integer({ minimum: 0, maximum: MAX_SEQ, description: 'a stream sequence' });
export const Count = Type.Integer({ minimum: 0, maximum: MAX_SEQ });
export const Clock = Type.Record(Type.String({ pattern: '^[a-z0-9_-]{1,64}$' }), Type.Integer({ minimum: 0, maximum: MAX_SEQ }), {
  maxProperties: 256, description: 'vector clock: region id → counter',
});
export const Attributes = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 128 });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const closed = { additionalProperties: false } as const;

// ---- conventions -------------------------------------------------------------------------------

export const Problem = Type.Object({
  type: Type.String({ description: 'a URI naming the kind of problem' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String({ description: 'what was wrong, naming the field first' }),
  instance: Type.String({ description: 'the request id (also in X-Request-Id and the logs)' }),
  code: Type.String({ description: 'the status code shared with gRPC, e.g. INVALID_ARGUMENT' }),
  field: Type.Optional(Type.String({ description: 'the request field at fault, as the request spells it' })),
  current: Type.Optional(Type.Unknown({ description: 'with 409 stale writes and 412: what is stored now' })),
}, { $id: 'Problem', title: 'Problem (RFC 9457)' });

export const ReadQuery = {
  min_sequence: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SEQ, description: 'read-your-writes: first wait until the view reflects this sequence' })),
};
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,1400}$', description: 'the `next` of a previous page' })),
};
export const WriteQuery = {
  wait: Type.Optional(Type.Boolean({ default: true, description: "wait until the view applied the event and answer the fold's verdict" })),
  min_sequence: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SEQ, description: 'decide on a view that reflects at least this sequence' })),
};
export const WriteHeaders = Type.Object({
  'idempotency-key': Type.Optional(EventId),
  'if-match': Type.Optional(Type.String({ maxLength: 1024 })),
});

export const WriteResult = Type.Object({
  sequence: Sequence,
  event_id: Type.String(),
  duplicate: Type.Boolean(),
  view_reached: Type.Boolean(),
  view_sequence: Sequence,
}, { $id: 'WriteResult', description: 'the event a write appended (sequence 0: nothing was, e.g. a no-op)' });

export const Written = Type.Object({ write: Type.Ref('WriteResult') });

export const page = <T extends TSchema>(item: T, extra: Record<string, TSchema> = {}) => Type.Object({
  items: Type.Array(item),
  next: Nullable(Type.String({ description: 'the URL of the next page; null on the last' })),
  view_sequence: Sequence,
  ...extra,
});

// ---- regions -----------------------------------------------------------------------------------

export const Region = Type.Object({
  id: Type.String(),
  name: Type.String(),
  endpoint: Type.String(),
  location: Type.Object({ latitude: Type.Number(), longitude: Type.Number(), name: Type.String() }),
  capacity_bytes: Count,
  active: Type.Boolean(),
  state: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('offline')]),
  sync_lag: Count,
  storage_used: Count,
  load_level: Type.Number(),
  pending_changes: Count,
  joined_at: Type.String(),
  last_seen_at: Type.String(),
}, { $id: 'Region' });

export const RegisterRegionBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  endpoint: Type.String({ minLength: 1, maxLength: 512 }),
  location: Type.Object({
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    name: Type.Optional(Type.String({ maxLength: 256 })),
  }, closed),
  capacity_bytes: Count,
}, closed);

export const HeartbeatBody = Type.Object({
  state: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('offline')]),
  sync_lag: Count,
  storage_used: Count,
  load_level: Type.Number({ minimum: 0, maximum: 1 }),
}, closed);

// ---- files -------------------------------------------------------------------------------------

export const Location = Type.Object({
  region_id: Type.String(),
  state: Type.Union([Type.Literal('synced'), Type.Literal('syncing'), Type.Literal('stale')]),
  last_sync_at: Nullable(Type.String()),
  vector_clock: Clock,
}, { $id: 'Location' });

export const FileMetadata = Type.Object({
  file_id: Type.String(),
  path: Type.String(),
  size: Count,
  checksum: Type.String(),
  modified_at: Type.String(),
  vector_clock: Clock,
  deleted: Type.Boolean(),
  attributes: Attributes,
}, { $id: 'FileMetadata' });

export const File = Type.Object({
  metadata: Type.Ref('FileMetadata'),
  locations: Type.Array(Type.Ref('Location')),
  primary: Type.String(),
  replicas: Count,
  origin: Type.Object({ region_id: Type.String(), event_id: Type.String(), sequence: Sequence }),
  versions: Count,
  synced_copies: Count,
  under_replicated: Type.Boolean(),
  etag: Type.String({ description: 'the ETag of this version (from its vector clock), for If-Match' }),
}, { $id: 'File' });

export const FileOf = Type.Object({ file: Type.Ref('File'), view_sequence: Sequence });

/** A region's new metadata for a file: what a change event carries. */
export const FileChangeBody = Type.Object({
  region_id: RegionId,
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  size: Count,
  checksum: Type.Optional(Type.String({ maxLength: 256 })),
  modified_at: Instant,
  vector_clock: Clock,
  attributes: Type.Optional(Attributes),
  deleted: Type.Optional(Type.Boolean({ description: 'true: the region deleted the file' })),
}, closed);
export const RegisterFileBody = Type.Object({
  ...FileChangeBody.properties,
  file_id: FileId,
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
}, closed);

export const Pending = Type.Object({
  file_id: Type.String(), event_id: Type.String(), sequence: Sequence, vector_clock: Clock, deleted: Type.Boolean(), since: Type.String(),
});

// ---- conflicts ---------------------------------------------------------------------------------

export const Version = Type.Object({
  event_id: Type.String(),
  region_id: Type.String(),
  at: Type.String(),
  sequence: Sequence,
  metadata: Type.Ref('FileMetadata'),
}, { $id: 'Version' });

export const ConflictStrategy = Type.Union([Type.Literal('last_writer_wins'), Type.Literal('merge'), Type.Literal('manual'), Type.Literal('fork')]);
export const SyncStrategy = Type.Union([Type.Literal('eager'), Type.Literal('lazy'), Type.Literal('on_demand')]);

export const Conflict = Type.Object({
  conflict_id: Type.String(),
  file_id: Type.String(),
  path: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  strategy: ConflictStrategy,
  detected_at: Type.String(),
  detected_sequence: Sequence,
  regions: Type.Array(Type.String()),
  local: Type.Ref('Version'),
  remote: Type.Ref('Version'),
  resolution: Nullable(Type.Object({ winner: Type.String(), by: Type.String(), at: Type.String(), event_id: Type.String() })),
  fork: Nullable(Type.String()),
  note: Nullable(Type.String()),
}, { $id: 'Conflict' });

export const ConflictDetail = Type.Object({
  conflict: Type.Ref('Conflict'),
  differences: Type.Array(Type.Object({ field: Type.String(), local: Type.Unknown(), remote: Type.Unknown() }), {
    description: 'the metadata fields the two versions disagree on, side by side',
  }),
  file_etag: Nullable(Type.String({ description: "the file's current ETag: If-Match for the resolution" })),
  view_sequence: Sequence,
});

export const ResolveBody = Type.Union([
  Type.Object({ keep: Type.Union([Type.Literal('local'), Type.Literal('remote')]) }, closed),
  Type.Object({
    merged: Type.Object({
      path: Type.String({ minLength: 1, maxLength: 4096 }),
      size: Count,
      checksum: Type.Optional(Type.String({ maxLength: 256 })),
      modified_at: Instant,
      attributes: Type.Optional(Attributes),
    }, closed),
  }, closed),
]);

// ---- policies ----------------------------------------------------------------------------------

export const Policy = Type.Object({
  pattern: Type.String(),
  sync: Nullable(Type.String()),
  conflict: Nullable(Type.String()),
  event_id: Type.String(),
  at: Type.String(),
  operator: Type.String(),
  etag: Type.String(),
}, { $id: 'Policy' });

export const PolicyPattern = Type.String({ minLength: 1, maxLength: 1024, description: 'a path prefix or a glob (** any, * any but /, ? one), URL-encoded' });
export const SetPolicyBody = Type.Object({ sync: Type.Optional(SyncStrategy), conflict: Type.Optional(ConflictStrategy) }, closed);

export const EffectivePolicy = Type.Object({
  path: Type.String(),
  sync: Type.String(),
  conflict: Type.String(),
  sync_from: Nullable(Type.String({ description: 'the pattern that set it; null: the built-in default' })),
  conflict_from: Nullable(Type.String()),
  view_sequence: Sequence,
});

// ---- identity ----------------------------------------------------------------------------------

export const GrantSchema = Type.Object({
  role: Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('auditor'), Type.Literal('region')]),
  region: Type.Optional(Nullable(RegionId)),
}, closed);
export const Principal = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  grants: Type.Array(Type.Object({ role: Type.String(), region: Nullable(Type.String()) })),
  created_at: Type.String(),
  disabled_at: Nullable(Type.String()),
}, { $id: 'Principal' });
export const TokenInfo = Type.Object({
  id: Type.String(),
  principal: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  expires_at: Nullable(Type.String()),
  last_used_at: Nullable(Type.String()),
  revoked_at: Nullable(Type.String()),
}, { $id: 'TokenInfo' });
export const IssuedToken = Type.Object({
  token: Type.String({ description: 'the token itself: shown once, here, never again' }),
  info: Type.Ref('TokenInfo'),
});
export const TokenName = Type.String({ minLength: 1, maxLength: 128 });

// ---- jobs --------------------------------------------------------------------------------------

export const JobSchema = Type.Object({
  id: Type.String(), kind: Type.String(), instance: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  created_at: Type.String(), finished_at: Type.Union([Type.String(), Type.Null()]),
  result: Type.Unknown({ description: "the job's summary once succeeded (the CLI's --json output)" }),
  error: Type.Union([Type.Object({ code: Type.String(), detail: Type.String() }), Type.Null()]),
  cancel_requested: Type.Boolean(),
}, { $id: 'Job' });

/** Schemas referenced by $id, registered once with fastify (and so in the OpenAPI components). */
export const SHARED = [Problem, WriteResult, Region, Location, FileMetadata, File, Version, Conflict, Policy, Principal, TokenInfo, JobSchema];
