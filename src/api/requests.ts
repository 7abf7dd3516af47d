// io-ts codecs for API requests as @grpc/proto-loader hands them over (snake_case, int64 as
// strings, Timestamps as {seconds, nanos}, absent messages as null). Built from the same blocks as
// the event codecs, so a field obeys one rule whichever way it arrives.
import * as t from 'io-ts';
import {
  Attributes, Fraction, Id, Latitude, Longitude, NonEmptyText, RegionId, Text, checkedRecord,
} from '../../streams/codecs.js';

/** An int64 (string from the wire, or number) that must be a non-negative safe integer. */
export const Int64Count = new t.Type<number, string, unknown>(
  'non-negative integer',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^-?\d+$/.test(u) ? Number(u) : typeof u === 'number' ? u : Number.NaN;
    return Number.isSafeInteger(n) && n >= 0 ? t.success(n) : t.failure(u, c);
  },
  String,
);

const MIN_SECONDS = -62135596800; // 0001-01-01
const MAX_SECONDS = 253402300799; // 9999-12-31
/** google.protobuf.Timestamp → RFC 3339 string. */
export const Timestamp = new t.Type<string, unknown, unknown>(
  'google.protobuf.Timestamp between years 1 and 9999',
  (u): u is string => typeof u === 'string',
  (u, c) => {
    if (typeof u !== 'object' || u === null) return t.failure(u, c);
    const { seconds, nanos } = u as { seconds?: unknown; nanos?: unknown };
    const s = typeof seconds === 'string' || typeof seconds === 'number' ? Number(seconds) : Number.NaN;
    const n = typeof nanos === 'number' ? nanos : 0;
    if (!Number.isSafeInteger(s) || s < MIN_SECONDS || s > MAX_SECONDS || !Number.isInteger(n) || n < 0 || n > 999_999_999) return t.failure(u, c);
    return t.success(new Date(s * 1000 + Math.floor(n / 1_000_000)).toISOString());
  },
  (a) => a,
);

/**
 * An optional message: absent (null) is fine, a present one must be valid. Not a union with null:
 * that reports "expected null" and "expected undefined" next to the real problem, crowding out the
 * field that is wrong.
 */
const optional = <A, O>(codec: t.Type<A, O, unknown>) =>
  new t.Type<A | null | undefined, O | null | undefined, unknown>(
    codec.name,
    (u): u is A | null | undefined => u === null || u === undefined || codec.is(u),
    (u, c) => (u === null || u === undefined ? t.success(u) : codec.validate(u, c)),
    (a) => (a === undefined ? undefined : a === null ? null : codec.encode(a)),
  );

export const OptionalTimestamp = optional(Timestamp);
export const ProtoClock = checkedRecord(RegionId, Int64Count, 256, 'vector clock (region id → non-negative integer)');
export const OptionalId = t.union([t.literal(''), Id]);

export const ProtoFileMetadata = t.type({
  file_id: Id,
  path: NonEmptyText(4096),
  size: Int64Count,
  checksum: Text(256),
  modified_at: Timestamp,
  vector_clock: ProtoClock,
  deleted: t.boolean,
  attributes: Attributes,
}, 'FileMetadata');
export type ProtoFileMetadata = t.TypeOf<typeof ProtoFileMetadata>;

export const WriteOptions = optional(t.type({ event_id: OptionalId, wait_for_view: t.boolean, at: OptionalTimestamp, min_sequence: Int64Count }, 'WriteOptions'));
export type WriteOptions = t.TypeOf<typeof WriteOptions>;
export const ReadOptions = optional(t.type({ min_sequence: Int64Count }, 'ReadOptions'));
export type ReadOptions = t.TypeOf<typeof ReadOptions>;

const PageSize = new t.Type<number, number, unknown>(
  'page size from 0 to 1000',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 1000 ? t.success(u === 0 ? 100 : u) : t.failure(u, c)),
  (a) => a,
);
const PageToken = t.refinement(t.string, (s): boolean => s.length <= 1024, 'page token from a previous response');
const Replicas = t.refinement(t.number, (n): boolean => Number.isInteger(n) && n >= 0 && n <= 100, 'replica count from 0 (default) to 100');

export const GetRequest = t.intersection([
  t.type({ file_id: Id, read: ReadOptions }),
  t.partial({ requesting_region: t.union([t.literal(''), RegionId]) }),
]);
export const RegisterRequest = t.type({ region_id: RegionId, metadata: ProtoFileMetadata, replicas: Replicas, write: WriteOptions });
export const UpdateRequest = t.type({ region_id: RegionId, metadata: ProtoFileMetadata, write: WriteOptions });
export const BatchGetRequest = t.type({
  file_ids: t.refinement(t.array(Id), (a): boolean => a.length >= 1 && a.length <= 1000, '1 to 1000 file ids'),
  read: ReadOptions,
});

export const ChangeType = t.keyof({ CREATED: null, UPDATED: null, DELETED: null });
export const ChangeEvent = t.type({
  event_id: OptionalId,
  type: ChangeType,
  region_id: RegionId,
  metadata: ProtoFileMetadata,
  timestamp: OptionalTimestamp,
  replicas: Replicas,
}, 'ChangeEvent');
export type ChangeEvent = t.TypeOf<typeof ChangeEvent>;
export const HandleChangeRequest = t.type({ event: ChangeEvent, wait_for_view: t.boolean });
export const BroadcastChangeRequest = t.type({ event: ChangeEvent, exclude_region: t.union([t.literal(''), RegionId]), wait_for_view: t.boolean });
export const GetPendingChangesRequest = t.type({ region_id: RegionId, since: Int64Count, page_size: PageSize, page_token: PageToken, read: ReadOptions });
export const AckSyncRequest = t.type({
  region_id: RegionId,
  event_ids: t.refinement(t.array(Id), (a): boolean => a.length >= 1 && a.length <= 1000, '1 to 1000 event ids'),
  write: WriteOptions,
});

const ClockOnly = t.type({ vector_clock: ProtoClock }, 'FileMetadata with vector_clock');
export const DetectRequest = t.type({ local: ClockOnly, remote: ClockOnly });
const Keep = t.type({ choice: t.literal('keep'), keep: t.keyof({ local: null, remote: null }) });
const Merged = t.type({ choice: t.literal('merged'), merged: ProtoFileMetadata });
const ChoiceName = t.keyof({ keep: null, merged: null }, 'keep ("local" or "remote") or merged (FileMetadata)');
// The oneof `choice`, checked by hand: io-ts' tagged union reports an unset tag against the whole
// request ("(event): expected (... | ...)"), where a caller needs to hear which field is missing.
const ResolveChoice = new t.Type<t.TypeOf<typeof Keep> | t.TypeOf<typeof Merged>, unknown, unknown>(
  'keep or merged',
  (u): u is t.TypeOf<typeof Keep> | t.TypeOf<typeof Merged> => Keep.is(u) || Merged.is(u),
  (u, c) => {
    const choice = typeof u === 'object' && u !== null ? (u as { choice?: unknown }).choice : undefined;
    if (choice === 'keep') return Keep.validate(u, c);
    if (choice === 'merged') return Merged.validate(u, c);
    return t.failure(choice, t.appendContext(c, 'choice', ChoiceName, choice));
  },
  t.identity,
);
export const ResolveRequest = t.intersection([
  // Empty with authentication on: the caller is recorded as the operator.
  t.type({ conflict_id: Id, operator: Text(256), write: WriteOptions }),
  ResolveChoice,
]);
export const ListConflictsRequest = t.type({
  file_id: OptionalId,
  status: t.keyof({ '': null, open: null, resolved: null }),
  page_size: PageSize,
  page_token: PageToken,
  read: ReadOptions,
});

export const RegionStateName = t.keyof({ HEALTHY: null, DEGRADED: null, OFFLINE: null });
const Finite = (what: string, inner: t.Type<number, number, unknown>) =>
  t.refinement(inner, (n): boolean => Number.isFinite(n), what);
export const ProtoRegionStatus = t.type({ state: RegionStateName, sync_lag: Int64Count, storage_used: Int64Count, load_level: Finite('number between 0 and 1', Fraction) }, 'RegionStatus');
export const RegisterRegionRequest = t.type({
  region: t.type({
    id: RegionId,
    name: NonEmptyText(256),
    endpoint: NonEmptyText(512),
    location: t.type({ latitude: Latitude, longitude: Longitude, name: Text(256) }, 'GeoLocation'),
    capacity: t.type({ total_bytes: Int64Count }, 'StorageCapacity'),
  }, 'RegionInfo'),
  write: WriteOptions,
});
export const DeregisterRequest = t.type({ region_id: RegionId, reason: Text(1024), write: WriteOptions });
export const HeartbeatRequest = t.type({ region_id: RegionId, status: ProtoRegionStatus, write: WriteOptions });
export const GetActiveRegionsRequest = t.type({ read: ReadOptions });
export const GetRegionRequest = t.type({ region_id: RegionId, read: ReadOptions });

/** An RFC 3339 time as a string field: empty means "no bound". */
const OptionalInstant = new t.Type<number | undefined, string, unknown>(
  'RFC 3339 time (e.g. 2026-11-25T10:00:00Z) or empty',
  (u): u is number | undefined => u === undefined || typeof u === 'number',
  (u, c) => {
    if (u === '' || u === undefined || u === null) return t.success(undefined);
    const ms = typeof u === 'string' && /^\d{4}-\d\d-\d\dT/.test(u) ? Date.parse(u) : Number.NaN;
    return Number.isFinite(ms) ? t.success(ms) : t.failure(u, c);
  },
  (a) => (a === undefined ? '' : new Date(a).toISOString()),
);

export const ListRejectionsRequest = t.type({
  region: t.union([t.literal(''), RegionId]),
  code: t.keyof({ '': null, not_found: null, already_exists: null, stale: null, conflict: null, failed_precondition: null, invalid: null }),
  stored_after: OptionalInstant,
  stored_before: OptionalInstant,
  page_size: PageSize,
  page_token: PageToken,
  read: ReadOptions,
});

// IdentityService: names, kinds and roles are checked by the identity store, which names the field.
const GrantMessage = t.type({ role: t.string, region: t.string });
export const CreatePrincipalRequest = t.type({ name: t.string, kind: t.string, grants: t.array(GrantMessage) });
export const SetGrantsRequest = t.type({ name: t.string, grants: t.array(GrantMessage) });
export const PrincipalNameRequest = t.type({ name: t.string });
export const IssueTokenRequest = t.type({ principal: t.string, name: t.string, expires_at: OptionalTimestamp });
export const ListTokensRequest = t.type({ principal: t.string });
export const TokenIdRequest = t.type({ id: t.string });
export const RotateTokenRequest = t.type({ id: t.string, expires_at: OptionalTimestamp });
