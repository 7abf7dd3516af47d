// Fuzzing the gRPC API through real clients against a coordinator on real NATS and etcd.
//
// 10,000 typed requests: a valid request for one of the 17 methods with one to three targeted
// mutations (wrong types, huge strings, empty ids, bad characters, negative / overflowing /
// non-numeric counters, bad clocks, unknown enum numbers, missing messages, oversized and nested
// attributes, NaN/Infinity and out-of-range doubles, bad timestamps, bad lists), whole empty
// requests, and some valid ones. Plus 2,000 raw byte strings sent with identity serializers to
// every method path (garbage, truncated or flipped encodings, wrong wire types, unterminated
// varints, lengths past the end, groups nested past any limit, deep unknown nesting, invalid UTF-8,
// more than the message limit, unknown methods). Values come from fast-check with a fixed seed, so
// a failure replays exactly.
//
// Oracles. Over the message limit: RESOURCE_EXHAUSTED. A mutation no reading of the API allows:
// INVALID_ARGUMENT. Bytes the protobuf decoder refuses: INVALID_ARGUMENT naming `(request)`. Anything
// else may be OK (it was valid) or a non-OK status with details; never INTERNAL, UNKNOWN or
// UNAVAILABLE, and DEADLINE_EXCEEDED only for a read at a sequence the stream has not reached.
// Every line of an INVALID_ARGUMENT names a request field, and for a typed request one inside a
// field the fuzzer broke (the rest of it is valid, so anything else is a false rejection).
// After every batch: health is SERVING and a Get answers; the stream holds exactly the events of
// the writes that answered OK (besides the coordinator's own health verdicts and sync requests);
// the etcd view is byte-identical when nothing was stored, else the fold of the stream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc, { type GeneratorValue } from 'fast-check';
import { decodeEvent } from '../../streams/decode.js';
import { readStream } from '../../src/nats/read.js';
import { PACKAGE, SERVICES, packageDefinition, type ServiceName } from '../../src/api/proto.js';
import type { Coordinator } from '../../src/coordinator.js';
import { call, connectClients, detail, healthClient, type Clients } from '../support/grpcClient.js';
import {
  asObject, expectedEntries, foldStream, readEtcdView, startInProcess, startStack, waitForCaughtUp, type Stack,
} from '../support/stack.js';

const SEED = 0x5eed_2026;
const BATCHES = 20;
const TYPED_PER_BATCH = 500;
const RAW_PER_BATCH = 100;
const IN_FLIGHT = 50;
const CALL_DEADLINE_MS = 15_000;
const FUTURE_DEADLINE_MS = 1000;

// ---- the request schema as the API validates it ------------------------------------------------

type Field =
  | { readonly t: 'id'; readonly pool: readonly string[]; readonly optional?: boolean }
  | { readonly t: 'region'; readonly pool: readonly string[]; readonly optional?: boolean }
  | { readonly t: 'text'; readonly max: number; readonly nonEmpty: boolean }
  | { readonly t: 'count'; readonly readAt?: boolean }
  | { readonly t: 'int'; readonly min: number; readonly max: number }
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | { readonly t: 'choice'; readonly values: readonly string[] }
  | { readonly t: 'double'; readonly min: number; readonly max: number }
  | { readonly t: 'bool' }
  | { readonly t: 'fixed'; readonly value: unknown }
  | { readonly t: 'timestamp'; readonly optional: boolean }
  | { readonly t: 'clock' }
  | { readonly t: 'attrs' }
  | { readonly t: 'ids'; readonly pool: readonly string[] }
  | { readonly t: 'msg'; readonly optional: boolean; readonly fields: Readonly<Record<string, Field>> };

const ACTIVE = ['r1', 'r2', 'r3'] as const;
const REGION_POOL = [...ACTIVE, 'r4'];
const FILE_POOL = ['f1', 'f2', 'f3', 'heavy', 'wide', 'nope'];
const CONFLICT_POOL = ['fz-conflict', 'nope'];
const EVENT_POOL = ['fz-f1', 'fz-f3', 'nope'];
const NOW_S = Math.floor(Date.now() / 1000);

const region = (pool = REGION_POOL, optional = false): Field => ({ t: 'region', pool, optional });
const id = (pool: readonly string[], optional = false): Field => ({ t: 'id', pool, optional });
const text = (max: number, nonEmpty: boolean): Field => ({ t: 'text', max, nonEmpty });
const msg = (fields: Record<string, Field>, optional = false): Field => ({ t: 'msg', optional, fields });
const read = msg({ min_sequence: { t: 'count', readAt: true } }, true);
const write = msg({ event_id: id([], true), wait_for_view: { t: 'fixed', value: false }, at: { t: 'timestamp', optional: true } }, true);
const fileMetadata = msg({
  file_id: id(FILE_POOL),
  path: text(4096, true),
  size: { t: 'count' },
  checksum: text(256, false),
  modified_at: { t: 'timestamp', optional: false },
  vector_clock: { t: 'clock' },
  deleted: { t: 'bool' },
  attributes: { t: 'attrs' },
});
const change = msg({
  event_id: id([], true),
  type: { t: 'enum', values: ['CREATED', 'UPDATED', 'DELETED'] },
  region_id: region(),
  metadata: fileMetadata,
  timestamp: { t: 'timestamp', optional: true },
  replicas: { t: 'int', min: 0, max: 100 },
});
const pageSize: Field = { t: 'int', min: 0, max: 1000 };
const clockOnly = msg({ vector_clock: { t: 'clock' } });

type Spec = { readonly service: ServiceName; readonly method: string; readonly fields: Readonly<Record<string, Field>> };
const SPECS: readonly Spec[] = [
  { service: 'MetadataService', method: 'Get', fields: { file_id: id(FILE_POOL), read } },
  { service: 'MetadataService', method: 'Update', fields: { region_id: region(), metadata: fileMetadata, write } },
  { service: 'MetadataService', method: 'Register', fields: { region_id: region(), metadata: fileMetadata, replicas: { t: 'int', min: 0, max: 100 }, write } },
  { service: 'MetadataService', method: 'GetLocations', fields: { file_id: id(FILE_POOL), read } },
  { service: 'MetadataService', method: 'BatchGet', fields: { file_ids: { t: 'ids', pool: FILE_POOL }, read } },
  { service: 'SyncService', method: 'HandleChange', fields: { event: change, wait_for_view: { t: 'fixed', value: false } } },
  { service: 'SyncService', method: 'BroadcastChange', fields: { event: change, exclude_region: region(REGION_POOL, true), wait_for_view: { t: 'fixed', value: false } } },
  { service: 'SyncService', method: 'GetPendingChanges', fields: { region_id: region(), since: { t: 'count' }, page_size: pageSize, page_token: text(1024, false), read } },
  { service: 'SyncService', method: 'AckSync', fields: { region_id: region(), event_ids: { t: 'ids', pool: EVENT_POOL }, write } },
  { service: 'ConflictService', method: 'Detect', fields: { local: clockOnly, remote: clockOnly } },
  { service: 'ConflictService', method: 'Resolve', fields: { conflict_id: id(CONFLICT_POOL), operator: text(256, true), keep: { t: 'choice', values: ['local', 'remote'] }, write } },
  { service: 'ConflictService', method: 'Resolve', fields: { conflict_id: id(CONFLICT_POOL), operator: text(256, true), merged: fileMetadata, write } },
  {
    service: 'ConflictService', method: 'ListConflicts',
    fields: { file_id: id(FILE_POOL, true), status: { t: 'choice', values: ['', 'open', 'resolved'] }, page_size: pageSize, page_token: text(1024, false), read },
  },
  {
    service: 'AuditService', method: 'ListRejections',
    fields: {
      region: region(REGION_POOL, true),
      code: { t: 'choice', values: ['', 'not_found', 'already_exists', 'stale', 'conflict', 'failed_precondition', 'invalid'] },
      stored_after: { t: 'choice', values: ['', '2026-11-25T10:00:00Z', '2099-01-01T00:00:00+01:00'] },
      stored_before: { t: 'choice', values: ['', '2026-11-25T10:00:00Z'] },
      page_size: pageSize, page_token: text(1024, false), read,
    },
  },
  {
    service: 'RegionService', method: 'Register',
    fields: {
      region: msg({
        id: region(),
        name: text(256, true),
        endpoint: text(512, true),
        location: msg({ latitude: { t: 'double', min: -90, max: 90 }, longitude: { t: 'double', min: -180, max: 180 }, name: text(256, false) }),
        capacity: msg({ total_bytes: { t: 'count' } }),
      }),
      write,
    },
  },
  { service: 'RegionService', method: 'Deregister', fields: { region_id: region(), reason: text(1024, false), write } },
  {
    service: 'RegionService', method: 'Heartbeat',
    fields: {
      region_id: region(),
      status: msg({
        state: { t: 'enum', values: ['HEALTHY', 'DEGRADED', 'OFFLINE'] },
        sync_lag: { t: 'count' },
        storage_used: { t: 'count' },
        load_level: { t: 'double', min: 0, max: 1 },
      }),
      write,
    },
  },
  { service: 'RegionService', method: 'GetActiveRegions', fields: { read } },
  { service: 'RegionService', method: 'GetRegion', fields: { region_id: region(), read } },
];

// ---- the methods as the server loads them ----------------------------------------------------------

type MethodDef = grpc.MethodDefinition<unknown, unknown> & { requestType: { type: { name: string } } };
type Descriptor = {
  field: Array<{ name: string; number: number; type: string; typeName: string; label: string }>;
  oneofDecl: Array<{ name: string }>;
};
const methodDef = (service: ServiceName, method: string): MethodDef =>
  (packageDefinition[`${PACKAGE}.${service}`] as unknown as Record<string, MethodDef>)[method] as MethodDef;
const requestDescriptor = (service: ServiceName, method: string): Descriptor =>
  (packageDefinition[`${PACKAGE}.${methodDef(service, method).requestType.type.name}`] as unknown as { type: Descriptor }).type;
// IdentityService is left out: this run has authentication off, where it answers FAILED_PRECONDITION
// to everything; its guard is covered by access.test.ts and its input checks by identityStore.test.ts.
const METHODS = SERVICES.filter((s) => s !== 'IdentityService').flatMap((service) =>
  Object.keys(packageDefinition[`${PACKAGE}.${service}`] as object).map((method) => ({ service, method })));
/** What an INVALID_ARGUMENT may start with: a field of the request (or its oneof), or the request itself. */
const topLevelNames = (service: ServiceName, method: string): Set<string> => {
  const d = requestDescriptor(service, method);
  return new Set(['(request)', ...d.field.map((f) => f.name), ...d.oneofDecl.map((o) => o.name)]);
};
/** The events the API appends; anything else in the stream is the coordinator's own (health verdicts, sync requests). */
const API_EVENT_TYPES = new Set<string>([
  'file.registered', 'file.updated', 'file.deleted', 'sync.acked', 'region.registered', 'region.deregistered', 'region.heartbeat', 'conflict.resolved',
]);
const WRITES = new Set(['Update', 'Register', 'HandleChange', 'BroadcastChange', 'AckSync', 'Resolve', 'Deregister', 'Heartbeat']);

// ---- generation ------------------------------------------------------------------------------

const KINDS = [
  'valid', 'empty-request', 'wrong-type', 'huge-string', 'empty-id', 'bad-characters', 'unicode',
  'negative-counter', 'overflow-counter', 'non-numeric-counter', 'future-sequence', 'bad-clock',
  'unknown-enum', 'missing-message', 'oversized-attributes', 'nested-attributes', 'nan-infinity',
  'out-of-range', 'bad-timestamp', 'bad-list',
] as const;
type Kind = (typeof KINDS)[number];
type Mutation = { readonly path: string; readonly kind: Kind; readonly invalid: boolean };
type Option = { readonly kind: Kind; readonly invalid: boolean; readonly make: () => unknown };
type TypedCase = {
  readonly service: ServiceName; readonly method: string; readonly request: Record<string, unknown>;
  readonly kinds: readonly Kind[]; readonly mutations: readonly Mutation[];
};
type G = GeneratorValue;
/** One value of `arb`; a fresh builder per draw keeps fast-check's builder cache from comparing arguments. */
const draw = <T>(g: G, arb: fc.Arbitrary<T>): T => g(() => arb);

const ID_CHARS = [...'ABCXYZabcxyz0189._:-'];
const REGION_CHARS = [...'abcxyz0189_-'];
const MAX_MESSAGE_BYTES = 1_048_576;

// String arbitraries are built once: fast-check prepares each new one (for the `binary` unit, a map
// over all of Unicode), which would otherwise dominate generation.
const memo = new Map<string, fc.Arbitrary<unknown>>();
const once = <T>(key: string, make: () => fc.Arbitrary<T>): fc.Arbitrary<T> => {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as fc.Arbitrary<T>;
};
const ID_CHAR = fc.constantFrom(...ID_CHARS);
const REGION_CHAR = fc.constantFrom(...REGION_CHARS);
const charsString = (g: G, chars: readonly string[], min: number, max: number): string =>
  draw(g, once(`chars:${chars.join('')}:${min}:${max}`, () => fc.string({ unit: chars === ID_CHARS ? ID_CHAR : chars === REGION_CHARS ? REGION_CHAR : fc.constantFrom(...chars), minLength: min, maxLength: max })));
const ascii = (g: G, min: number, max: number): string => draw(g, once(`ascii:${min}:${max}`, () => fc.string({ minLength: min, maxLength: max })));
/** Any code point but a lone surrogate (control characters and NUL included). */
const CODE_POINT = fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })).map((cp) => String.fromCodePoint(cp));
const unicode = (g: G, min: number): string => draw(g, once(`unicode:${min}`, () => fc.string({ unit: CODE_POINT, minLength: min, maxLength: 40 })));
const CLOCK = fc.dictionary(fc.constantFrom(...REGION_POOL), fc.integer({ min: 0, max: 20 }).map(String), { minKeys: 1, maxKeys: 3 });
const ATTRIBUTES = fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 }), { maxKeys: 3 });
const idList = (pool: readonly string[]) => once(`ids:${pool.join(',')}`, () =>
  fc.array(fc.oneof(fc.constantFrom(...(pool.length > 0 ? pool : ['x'])), fc.string({ unit: ID_CHAR, minLength: 1, maxLength: 20 })), { minLength: 1, maxLength: 5 }));
/** Longer than `max`: mostly a little, sometimes a lot, now and then more than the message limit. */
const hugeLength = (g: G, max: number): number =>
  draw(g, fc.oneof({ weight: 30, arbitrary: fc.integer({ min: max + 1, max: max + 2000 }) },
    { weight: 8, arbitrary: fc.integer({ min: max + 2001, max: 50_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES + 100_000 }) }));
const validTimestamp = (g: G) => ({ seconds: String(NOW_S - draw(g, fc.nat(600))), nanos: draw(g, fc.integer({ min: 0, max: 999_999_999 })) });
const validIdOf = (g: G, chars: readonly string[], pool: readonly string[], maxLen: number): string =>
  pool.length > 0 && draw(g, fc.integer({ min: 0, max: 3 })) > 0 ? draw(g, fc.constantFrom(...pool)) : charsString(g, chars, 1, maxLen);

const valid = (g: G, f: Field): unknown => {
  switch (f.t) {
    case 'id': return f.optional && draw(g, fc.boolean()) ? '' : validIdOf(g, ID_CHARS, f.pool, 24);
    case 'region': return f.optional && draw(g, fc.boolean()) ? '' : validIdOf(g, REGION_CHARS, f.pool, 12);
    case 'text': return ascii(g, f.nonEmpty ? 1 : 0, 30);
    case 'count': return String(f.readAt ? draw(g, fc.integer({ min: 0, max: 3 })) : draw(g, fc.nat(1_000_000)));
    case 'int': return draw(g, fc.integer({ min: f.min, max: f.max }));
    case 'enum':
    case 'choice': return draw(g, fc.constantFrom(...f.values));
    case 'double': return draw(g, fc.double({ min: f.min, max: f.max, noNaN: true }));
    case 'bool': return draw(g, fc.integer({ min: 0, max: 4 })) === 0;
    case 'fixed': return f.value;
    case 'timestamp': return f.optional && draw(g, fc.boolean()) ? null : validTimestamp(g);
    case 'clock': return draw(g, CLOCK);
    case 'attrs': return draw(g, ATTRIBUTES);
    case 'ids': return draw(g, idList(f.pool));
    case 'msg':
      if (f.optional && draw(g, fc.integer({ min: 0, max: 3 })) === 0) return null;
      return Object.fromEntries(Object.entries(f.fields).map(([k, v]) => [k, valid(g, v)]));
  }
};

const opt = (kind: Kind, invalid: boolean, make: () => unknown): Option => ({ kind, invalid, make });
const wrongTypes = (g: G, values: readonly unknown[]) => opt('wrong-type', false, () => draw(g, fc.constantFrom(...values)));
const negative = (g: G) => (): string => String(draw(g, fc.bigInt({ min: -(2n ** 63n), max: -1n })));
const overflow = (g: G) => (): string => String(draw(g, fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n })));
const NON_NUMERIC = ['abc', '1e3', '0x10', ' 7', '7 ', '1.5', 'NaN', 'Infinity', '+3', '٣', Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, -0.5];
const nested = (depth: number): unknown => (depth === 0 ? { leaf: [1, [2, [3]]] } : { deeper: nested(depth - 1) });

/** Ways to break one field; `invalid` when no reading of the API allows the result. */
const options = (g: G, f: Field): Option[] => {
  switch (f.t) {
    case 'id':
    case 'region': {
      const [chars, max] = f.t === 'id' ? [ID_CHARS, 128] : [REGION_CHARS, 64];
      const bad = f.t === 'id' ? [' ', '/', '\u0000', 'é', '\n', '*', '#', '%', '😀', '\u202e'] : [' ', '/', 'R', '.', ':', 'é', '\u0000', '😀'];
      return [
        opt('empty-id', !f.optional, () => ''),
        opt('huge-string', true, () => 'a'.repeat(hugeLength(g, max))),
        opt('bad-characters', true, () => `${charsString(g, chars, 0, 5)}${draw(g, fc.constantFrom(...bad))}${charsString(g, chars, 0, 5)}`),
        wrongTypes(g, [42, -1, 0, true, false, 3.14, [1, 2], { a: 1 }, null]),
        opt('unicode', false, () => unicode(g, 1)),
      ];
    }
    case 'text':
      return [
        ...(f.nonEmpty ? [opt('empty-id', true, () => '')] : []),
        opt('huge-string', true, () => 'z'.repeat(hugeLength(g, f.max))),
        wrongTypes(g, [42, true, [1, 'two'], { nested: { deep: 1 } }, null, -0]),
        opt('unicode', false, () => unicode(g, f.nonEmpty ? 1 : 0)),
      ];
    case 'count':
      return [
        opt('negative-counter', true, negative(g)),
        opt('overflow-counter', true, overflow(g)),
        opt('non-numeric-counter', false, () => draw(g, fc.constantFrom(...NON_NUMERIC))),
        ...(f.readAt ? [opt('future-sequence', false, () => '999999999')] : []),
      ];
    case 'int':
      return [
        opt('out-of-range', true, () => draw(g, fc.integer({ min: -(2 ** 31), max: f.min - 1 }))),
        opt('out-of-range', true, () => draw(g, fc.integer({ min: f.max + 1, max: 2 ** 31 - 1 }))),
        wrongTypes(g, ['12', 'abc', 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 40, true, null]),
      ];
    case 'enum':
      return [
        opt('unknown-enum', true, () => draw(g, fc.oneof(fc.integer({ min: f.values.length + 1, max: 100_000 }), fc.integer({ min: -100_000, max: -1 })))),
        opt('unknown-enum', true, () => draw(g, fc.constantFrom(0, 'WEIRD', (f.values[0] ?? '').toLowerCase(), `${f.values[0] ?? ''} `))),
        wrongTypes(g, [true, 1.5, [1], { x: 1 }]),
      ];
    case 'choice':
      return [
        opt('unknown-enum', true, () => draw(g, fc.constantFrom('bogus', 'LOCAL', 'Open', ' open', 'remote\u0000', 'x'.repeat(300)))),
        wrongTypes(g, [1, true, [], { v: 'local' }]),
      ];
    case 'double':
      return [
        opt('nan-infinity', true, () => draw(g, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY))),
        opt('out-of-range', true, () => draw(g, fc.double({ min: f.max, max: 1e308, minExcluded: true, noNaN: true }))),
        opt('out-of-range', true, () => draw(g, fc.double({ min: -1e308, max: f.min, maxExcluded: true, noNaN: true }))),
        wrongTypes(g, ['0.5', 'abc', true, null, '']),
      ];
    case 'bool':
      return [wrongTypes(g, ['yes', 'false', 0, 1, 2, {}, [], null])];
    case 'fixed':
      return [];
    case 'timestamp':
      return [
        opt('bad-timestamp', true, () => ({ seconds: String(NOW_S), nanos: draw(g, fc.integer({ min: -(2 ** 31), max: -1 })) })),
        opt('bad-timestamp', true, () => ({ seconds: String(NOW_S), nanos: draw(g, fc.integer({ min: 1_000_000_000, max: 2 ** 31 - 1 })) })),
        opt('bad-timestamp', true, () => ({ seconds: String(draw(g, fc.bigInt({ min: -(2n ** 63n), max: -62135596801n }))), nanos: 0 })),
        opt('bad-timestamp', true, () => ({ seconds: String(draw(g, fc.bigInt({ min: 253402300800n, max: 2n ** 63n - 1n }))), nanos: 0 })),
        opt('missing-message', !f.optional, () => null),
      ];
    case 'clock': {
      const good = () => draw(g, fc.constantFrom(...REGION_POOL));
      return [
        opt('bad-clock', true, () => ({ [draw(g, fc.constantFrom('R1', '', 'a b', 'r.1', 'r/1', 'ü', '😀', 'x'.repeat(draw(g, fc.integer({ min: 65, max: 2000 })))))]: '1' })),
        opt('negative-counter', true, () => ({ [good()]: negative(g)() })),
        opt('overflow-counter', true, () => ({ [good()]: overflow(g)() })),
        opt('non-numeric-counter', false, () => ({ [good()]: draw(g, fc.constantFrom(...NON_NUMERIC)) })),
        opt('bad-clock', true, () => Object.fromEntries(Array.from({ length: draw(g, fc.integer({ min: 257, max: 400 })) }, (_, i) => [`k${i}`, '1']))),
        opt('bad-clock', false, () => ({})),
      ];
    }
    case 'attrs':
      return [
        opt('oversized-attributes', true, () => Object.fromEntries(Array.from({ length: draw(g, fc.integer({ min: 129, max: 300 })) }, (_, i) => [`a${i}`, 'v']))),
        opt('oversized-attributes', true, () => ({ ['k'.repeat(draw(g, fc.integer({ min: 257, max: 5000 })))]: 'v' })),
        opt('oversized-attributes', true, () => ({ owner: 'v'.repeat(draw(g, fc.integer({ min: 4097, max: 20_000 }))) })),
        // Allowed field by field, but together more than an event may hold (or close to it).
        opt('oversized-attributes', false, () => Object.fromEntries(Array.from({ length: draw(g, fc.integer({ min: 60, max: 128 })) }, (_, i) => [`big${i}`, 'v'.repeat(4096)]))),
        opt('nested-attributes', false, () => ({ deep: nested(draw(g, fc.integer({ min: 1, max: 200 }))), list: [[1, [2]], { a: [] }], n: 5 })),
      ];
    case 'ids': {
      const some = () => valid(g, f) as string[];
      return [
        opt('bad-list', true, () => []),
        opt('bad-list', true, () => Array.from({ length: draw(g, fc.integer({ min: 1001, max: 1300 })) }, (_, i) => `id-${i}`)),
        opt('bad-list', true, () => [...some(), '']),
        opt('bad-list', true, () => [...some(), `bad id/${draw(g, fc.nat(9))}`]),
        wrongTypes(g, [[1, 2], [true], [null], [{ a: 1 }]]),
      ];
    }
    case 'msg':
      return [
        opt('missing-message', !f.optional, () => null),
        opt('missing-message', false, () => ({})),
      ];
  }
};

type FieldPath = { readonly path: readonly string[]; readonly field: Field };
const fieldPaths = (fields: Readonly<Record<string, Field>>, prefix: readonly string[] = []): FieldPath[] =>
  Object.entries(fields).flatMap(([name, field]) => {
    const path = [...prefix, name];
    if (field.t === 'fixed') return [];
    return [{ path, field }, ...(field.t === 'msg' ? fieldPaths(field.fields, path) : [])];
  });

const isPrefix = (a: readonly string[], b: readonly string[]) => a.length <= b.length && a.every((x, i) => b[i] === x);

/** Sets `value` at `path`, first making absent parent messages valid so the mutation lands. */
const setAt = (g: G, request: Record<string, unknown>, fields: Readonly<Record<string, Field>>, path: readonly string[], value: unknown) => {
  let node = request;
  let spec = fields;
  for (const name of path.slice(0, -1)) {
    const f = spec[name];
    if (f?.t !== 'msg') throw new Error(`no message at ${name}`);
    if (node[name] === null || typeof node[name] !== 'object') node[name] = valid(g, { ...f, optional: false });
    node = node[name] as Record<string, unknown>;
    spec = f.fields;
  }
  node[path[path.length - 1] ?? ''] = value;
};

const typedCase = (g: G, allInvalid: boolean): TypedCase => {
  const spec = draw(g, fc.constantFrom(...SPECS));
  const base = () => valid(g, { t: 'msg', optional: false, fields: spec.fields }) as Record<string, unknown>;
  const roll = allInvalid ? 99 : draw(g, fc.noBias(fc.integer({ min: 0, max: 99 })));
  if (roll < 8) return { service: spec.service, method: spec.method, request: base(), kinds: ['valid'], mutations: [] };
  if (roll < 10) return { service: spec.service, method: spec.method, request: {}, kinds: ['empty-request'], mutations: [] };
  const request = base();
  const paths = fieldPaths(spec.fields);
  const mutations: Mutation[] = [];
  const count = draw(g, fc.integer({ min: 1, max: 3 }));
  for (let i = 0; i < count; i++) {
    const mustBeInvalid = allInvalid && i === 0;
    const free = paths.filter((p) => !mutations.some((m) => { const q = m.path.split('.'); return isPrefix(q, p.path) || isPrefix(p.path, q); }))
      .map((p) => ({ ...p, options: options(g, p.field).filter((o) => !mustBeInvalid || o.invalid) }))
      .filter((p) => p.options.length > 0);
    if (free.length === 0) break;
    const target = free[draw(g, fc.integer({ min: 0, max: free.length - 1 }))] as (typeof free)[number];
    const chosen = target.options[draw(g, fc.integer({ min: 0, max: target.options.length - 1 }))] as Option;
    setAt(g, request, spec.fields, target.path, chosen.make());
    mutations.push({ path: target.path.join('.'), kind: chosen.kind, invalid: chosen.invalid });
  }
  return { service: spec.service, method: spec.method, request, kinds: mutations.map((m) => m.kind), mutations };
};

// ---- raw bytes -----------------------------------------------------------------------------------

const RAW_KINDS = [
  'random-bytes', 'empty', 'truncated', 'byte-flips', 'wrong-wire-type', 'unterminated-varint', 'bad-length',
  'deep-groups', 'deep-nesting', 'invalid-utf8', 'oversized', 'unknown-method',
] as const;
type RawKind = (typeof RAW_KINDS)[number];
type RawCase = { readonly service: ServiceName; readonly method: string; readonly path: string; readonly bytes: Buffer; readonly kind: RawKind };

const varint = (n: number | bigint): number[] => {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return out;
};
const tag = (field: number, wireType: number) => varint((field << 3) | wireType);
const UNKNOWN_FIELD = 99;
const WIRE_TYPE: Record<string, number> = { TYPE_STRING: 2, TYPE_MESSAGE: 2, TYPE_BYTES: 2, TYPE_DOUBLE: 1, TYPE_FLOAT: 5 };

const rawCase = (g: G, allInvalid: boolean): RawCase => {
  const { service, method } = draw(g, fc.constantFrom(...METHODS));
  const def = methodDef(service, method);
  const spec = SPECS.find((s) => s.service === service && s.method === method) as Spec;
  const validBytes = () => def.requestSerialize(valid(g, { t: 'msg', optional: false, fields: spec.fields }));
  const kinds: RawKind[] = allInvalid
    ? ['random-bytes', 'empty', 'unterminated-varint', 'bad-length', 'deep-groups', 'deep-nesting', 'oversized', 'unknown-method']
    : ['random-bytes', 'empty', 'truncated', 'byte-flips', 'wrong-wire-type', 'unterminated-varint', 'bad-length', 'deep-groups', 'deep-nesting', 'invalid-utf8', 'oversized', 'unknown-method'];
  const kind = draw(g, fc.noBias(fc.integer({ min: 0, max: 49 }))) === 7 ? 'oversized' : draw(g, fc.constantFrom(...kinds.filter((k) => k !== 'oversized')));
  const path = def.path;
  const make = (bytes: number[] | Buffer | Uint8Array, p = path): RawCase => ({ service, method, path: p, bytes: Buffer.from(bytes), kind });
  switch (kind) {
    case 'random-bytes': return make(draw(g, fc.uint8Array({ minLength: 1, maxLength: 512 })));
    case 'empty': return make([]);
    case 'truncated': {
      const bytes = validBytes();
      return make(bytes.subarray(0, draw(g, fc.integer({ min: 0, max: Math.max(0, bytes.length - 1) }))));
    }
    case 'byte-flips': {
      const bytes = Buffer.from(validBytes());
      const flips = draw(g, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }));
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return make(bytes);
    }
    case 'wrong-wire-type': {
      const fields = requestDescriptor(service, method).field;
      const f = fields[draw(g, fc.integer({ min: 0, max: fields.length - 1 }))] as Descriptor['field'][number];
      const declared = WIRE_TYPE[f.type] ?? 0;
      const wt = draw(g, fc.constantFrom(...[0, 1, 2, 5].filter((w) => w !== declared)));
      const payload = wt === 0 ? varint(draw(g, fc.nat())) : wt === 1 ? [...draw(g, fc.uint8Array({ minLength: 8, maxLength: 8 }))]
        : wt === 5 ? [...draw(g, fc.uint8Array({ minLength: 4, maxLength: 4 }))] : (() => { const b = [...draw(g, fc.uint8Array({ maxLength: 20 }))]; return [...varint(b.length), ...b]; })();
      const extra = [...tag(f.number, wt), ...payload];
      const bytes = [...validBytes()];
      return make(draw(g, fc.boolean()) ? [...extra, ...bytes] : [...bytes, ...extra]);
    }
    case 'unterminated-varint':
      return make([...tag(UNKNOWN_FIELD, 0), ...Array<number>(draw(g, fc.integer({ min: 1, max: 12 }))).fill(0xff)]);
    case 'bad-length': {
      const tail = [...draw(g, fc.uint8Array({ maxLength: 16 }))];
      return make([...tag(UNKNOWN_FIELD, 2), ...varint(draw(g, fc.integer({ min: tail.length + 1, max: 2 ** 32 - 1 }))), ...tail]);
    }
    case 'deep-groups': {
      const open = tag(UNKNOWN_FIELD, 3);
      return make(Array.from({ length: draw(g, fc.integer({ min: 101, max: 20_000 })) }, () => open).flat());
    }
    case 'deep-nesting': {
      // Field 99 holding field 99 holding ... (innermost empty), built outside-in in linear time.
      const prefixes: number[][] = [];
      for (let depth = draw(g, fc.integer({ min: 1, max: 2000 })), length = 0; depth > 0; depth--) {
        const prefix = [...tag(UNKNOWN_FIELD, 2), ...varint(length)];
        prefixes.push(prefix);
        length += prefix.length;
      }
      return make(prefixes.reverse().flat());
    }
    case 'invalid-utf8': {
      const junk = draw(g, fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]));
      return make([...tag(1, 2), ...varint(junk.length + 1), 0x61, ...junk]);
    }
    case 'oversized':
      return make(Buffer.alloc(draw(g, fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES + 50_000 })), draw(g, fc.integer({ min: 0, max: 255 }))));
    case 'unknown-method':
      return make(validBytes(), draw(g, fc.boolean()) ? `${path}Nope` : `/${PACKAGE}.NopeService/${method}`);
  }
};

// ---- calling and judging -------------------------------------------------------------------------

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: grpc.ServiceError };

/**
 * `count` cases from `seed`: each from its own seed and its own fc.gen() (whose builder cache would
 * otherwise grow across the batch and dominate the run time).
 */
const sampleCases = <T>(seed: number, count: number, build: (g: G) => T): T[] =>
  fc.sample(fc.noBias(fc.integer()), { seed, numRuns: count })
    .map((caseSeed) => fc.sample(fc.gen().map(build), { seed: caseSeed, numRuns: 1 })[0] as T);

const rawCall = (client: grpc.Client, path: string, bytes: Buffer, deadlineMs: number): Promise<Outcome> =>
  new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
      (error, value) => resolve(error ? { ok: false, error } : { ok: true, value }));
  });

const tryDecode = (def: MethodDef, bytes: Buffer): { ok: true; value: Record<string, unknown> } | { ok: false } => {
  try {
    return { ok: true, value: def.requestDeserialize(bytes) as Record<string, unknown> };
  } catch {
    return { ok: false };
  }
};

/** The sequence a request asks to read at, when it is one the API accepts (else 0). */
const readAtOf = (decoded: Record<string, unknown> | undefined): number => {
  const readOptions = decoded?.['read'] as { min_sequence?: string } | null | undefined;
  const n = Number(readOptions?.min_sequence ?? 0);
  return Number.isSafeInteger(n) ? n : 0;
};

const codeName = (code: number) => grpc.status[code] ?? String(code);

/** The field path each line of an INVALID_ARGUMENT starts with (`metadata.vector_clock["R 1"]`, `file_ids.3`, `(request)`). */
const LINE_PATH = /^((?:\(request\)|[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_:-]+|\["(?:[^"\\]|\\.)*"\])*)(?=: )/;
const linePaths = (details: string): Array<string | undefined> => details.split(/; (?=\S+: )/).map((line) => LINE_PATH.exec(line)?.[1]);
const within = (path: string, outer: string) => path === outer || path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`);

type Expect = {
  readonly code: 'RESOURCE_EXHAUSTED' | 'UNIMPLEMENTED' | 'INVALID_ARGUMENT' | 'any';
  /** Where INVALID_ARGUMENT lines may point: the mutated fields (the rest of the request is valid); null: anywhere. */
  readonly within: readonly string[] | null;
  readonly mayTimeOut: boolean;
};
const exactly = (code: 'RESOURCE_EXHAUSTED' | 'UNIMPLEMENTED'): Expect => ({ code, within: null, mayTimeOut: false });

type Judged = { readonly problem?: string; readonly appended?: number; readonly code: string };

const judge = (service: ServiceName, method: string, expect: Expect, outcome: Outcome, responseOf: (v: unknown) => unknown): Judged => {
  if (outcome.ok) {
    if (expect.code !== 'any') return { code: 'OK', problem: `expected ${expect.code}, got OK` };
    const response = responseOf(outcome.value) as { write?: { sequence?: string; duplicate?: boolean } } | undefined;
    const seq = Number(response?.write?.sequence ?? 0);
    return { code: 'OK', ...(WRITES.has(method) && seq > 0 && response?.write?.duplicate !== true ? { appended: seq } : {}) };
  }
  const { code, details } = outcome.error;
  const name = codeName(code);
  if (typeof details !== 'string' || details.trim() === '') return { code: name, problem: `${name} with empty details` };
  if (expect.code === 'RESOURCE_EXHAUSTED' || expect.code === 'UNIMPLEMENTED') {
    return code === grpc.status[expect.code] ? { code: name } : { code: name, problem: `expected ${expect.code}, got ${name}: ${details.slice(0, 200)}` };
  }
  if (code === grpc.status.INVALID_ARGUMENT) {
    const fields = topLevelNames(service, method);
    // A rule of the domain's decider (an `invalid` rejection, e.g. the origin's own counter) judges the
    // request as a whole, so it may name a field the generator left valid; a codec error may not.
    const byDecider = !/: expected /.test(details);
    for (const path of linePaths(details)) {
      if (path === undefined || !fields.has(path.split(/[.[]/)[0] ?? '')) return { code: name, problem: `INVALID_ARGUMENT line does not start with a request field: ${details.slice(0, 300)}` };
      if (!byDecider && expect.within !== null && !expect.within.some((outer) => within(path, outer))) {
        return { code: name, problem: `INVALID_ARGUMENT names ${path}, which is valid (only ${expect.within.join(', ') || 'nothing'} was broken): ${details.slice(0, 300)}` };
      }
    }
    return { code: name };
  }
  if (expect.code === 'INVALID_ARGUMENT') return { code: name, problem: `expected INVALID_ARGUMENT, got ${name}: ${details.slice(0, 300)}` };
  if (code === grpc.status.ABORTED && method === 'Update') {
    const current = detail(outcome.error, 'current-version') as { metadata?: { file_id?: unknown } } | undefined;
    if (current?.metadata?.file_id === undefined && !/left out/.test(details)) return { code: name, problem: `ABORTED without the current version: ${details.slice(0, 200)}` };
  }
  const allowed = [grpc.status.NOT_FOUND, grpc.status.ALREADY_EXISTS, grpc.status.ABORTED, grpc.status.FAILED_PRECONDITION];
  if (expect.mayTimeOut) allowed.push(grpc.status.DEADLINE_EXCEEDED);
  return allowed.includes(code) ? { code: name } : { code: name, problem: `${name}: ${details.slice(0, 300)}` };
};

const describeRequest = (request: unknown): string => {
  const text = JSON.stringify(request, (_k, v: unknown) => (typeof v === 'string' && v.length > 60 ? `<${v.length} chars>` : typeof v === 'bigint' ? String(v) : v));
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
};

const runPool = async <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  }));
};

const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
const table = (counts: Map<string, number>) => [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ');

// ---- the test --------------------------------------------------------------------------------------

const ts = { seconds: String(NOW_S - 3600), nanos: 0 };
const meta = (fileId: string, clock: Record<string, number>, attributes: Record<string, string> = {}) => ({
  file_id: fileId, path: `/data/${fileId}`, size: '1024', checksum: `sha256:${fileId}`, modified_at: ts,
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes,
});
const waitWrite = (eventId?: string) => ({ wait_for_view: true, ...(eventId ? { event_id: eventId } : {}) });

describe('gRPC API under fuzzing', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let clients: Clients;
  let raw: grpc.Client;
  let health: grpc.Client;

  const ok = async (reply: Promise<{ ok: boolean; error?: grpc.ServiceError }>) => {
    const r = await reply;
    assert.ok(r.ok, `setup call failed: ${r.error?.code} ${r.error?.details}`);
  };

  before(async () => {
    stack = await startStack();
    coordinator = await startInProcess(stack, 'fuzz');
    clients = connectClients(coordinator.api.port);
    raw = new grpc.Client(clients.address, grpc.credentials.createInsecure());
    health = healthClient(coordinator.api.port);
    for (const r of ACTIVE) {
      await ok(call(clients.RegionService, 'Register', {
        region: { id: r, name: `Region ${r}`, endpoint: `${r}.example:7000`, location: { latitude: 48.1, longitude: 11.6, name: `dc-${r}` }, capacity: { total_bytes: '1000000' } },
        write: waitWrite(),
      }));
    }
    await ok(call(clients.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f1', { r1: 1 }), write: waitWrite('fz-f1') }));
    await ok(call(clients.MetadataService, 'Register', { region_id: 'r2', metadata: meta('f2', { r2: 1 }), write: waitWrite() }));
    await ok(call(clients.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f3', { r1: 1 }), write: waitWrite('fz-f3') }));
    await ok(call(clients.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f2', { r1: 1 }), write: waitWrite('fz-conflict') }));
    // Files whose stored version is large: a stale update of them answers ABORTED with that version.
    const bigAttributes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`a${i}`, 'v'.repeat(4000)]));
    await ok(call(clients.MetadataService, 'Register', { region_id: 'r1', metadata: meta('heavy', { r1: 1000 }, bigAttributes), write: waitWrite() }));
    const wideClock: Record<string, number> = { r1: 1000 };
    for (let i = 0; i < 255; i++) wideClock[`${'w'.repeat(58)}-${String(i).padStart(3, '0')}`] = 1000;
    await ok(call(clients.MetadataService, 'Register', { region_id: 'r1', metadata: meta('wide', wideClock), write: waitWrite() }));
  });

  after(async () => {
    raw?.close();
    health?.close();
    clients?.close();
    await coordinator?.stop();
    await stack?.stop();
  });

  test(`${BATCHES * TYPED_PER_BATCH} typed and ${BATCHES * RAW_PER_BATCH} raw requests leave the view alone and the server serving`, async (t) => {
    const kinds = new Map<string, number>();
    const rawKinds = new Map<string, number>();
    const codes = new Map<string, number>();
    const perMethod = new Map<string, number>();
    let unchangedBatches = 0;
    let okWrites = 0;
    const ownEvents = new Map<string, number>();
    const started = Date.now();

    for (let batch = 0; batch < BATCHES; batch++) {
      const allInvalid = batch % 2 === 1;
      const typed = sampleCases(SEED + batch, TYPED_PER_BATCH, (g) => typedCase(g, allInvalid));
      const raws = sampleCases(SEED + 1000 + batch, RAW_PER_BATCH, (g) => rawCase(g, allInvalid));

      const beforeSeq = await waitForCaughtUp(stack);
      const beforeView = await readEtcdView(stack);
      const problems: string[] = [];
      const appended = new Set<number>();
      const note = (label: string, request: unknown, judged: Judged) => {
        bump(codes, judged.code);
        if (judged.appended !== undefined) appended.add(judged.appended);
        if (judged.problem !== undefined && problems.length < 20) problems.push(`${label}: ${judged.problem}\n      request: ${describeRequest(request)}`);
      };

      await runPool([...typed.map((c) => ({ typed: c })), ...raws.map((c) => ({ raw: c }))], IN_FLIGHT, async (item) => {
        if (problems.length >= 20) return; // a broken server: stop early, report what was seen
        if ('typed' in item) {
          const c = item.typed;
          const def = methodDef(c.service, c.method);
          let bytes: Buffer;
          try {
            bytes = def.requestSerialize(c.request);
          } catch (error) {
            problems.push(`${c.service}.${c.method} [${c.kinds.join(',')}]: the generated request cannot be serialized by a client: ${(error as Error).message}`);
            return;
          }
          const decoded = tryDecode(def, bytes);
          // The unmutated rest of the request is valid, so every problem lies inside a mutated field
          // (unsetting Resolve's keep / merged is reported on their oneof, `choice`), or, for a
          // request that big, is the size of the event it would append.
          const mutated = c.mutations.flatMap((m) => (m.path === 'keep' || m.path === 'merged' ? [m.path, 'choice'] : [m.path]));
          const mayTimeOut = readAtOf(decoded.ok ? decoded.value : undefined) > beforeSeq;
          const expect: Expect = bytes.length > MAX_MESSAGE_BYTES ? exactly('RESOURCE_EXHAUSTED') : {
            code: c.mutations.some((m) => m.invalid) ? 'INVALID_ARGUMENT' : 'any',
            within: c.kinds.includes('empty-request') ? null : [...mutated, ...(bytes.length > 200_000 ? ['(request)'] : [])],
            mayTimeOut,
          };
          for (const k of c.kinds) bump(kinds, k);
          bump(perMethod, `${c.service}.${c.method}`);
          // An invalid request is refused before any wait: it gets the full deadline, so a slow decode of a
          // huge field under load is not mistaken for the wait it never started.
          const outcome = await call(clients[c.service], c.method, c.request, mayTimeOut && expect.code !== 'INVALID_ARGUMENT' ? FUTURE_DEADLINE_MS : CALL_DEADLINE_MS);
          note(`${c.service}.${c.method} [${c.kinds.join(',')}]`, c.request, judge(c.service, c.method, expect, outcome, (v) => v));
        } else {
          const c = item.raw;
          const def = methodDef(c.service, c.method);
          const decoded = tryDecode(def, c.bytes);
          const mayTimeOut = readAtOf(decoded.ok ? decoded.value : undefined) > beforeSeq;
          const expect: Expect = c.kind === 'oversized' ? exactly('RESOURCE_EXHAUSTED')
            : c.kind === 'unknown-method' ? exactly('UNIMPLEMENTED')
            : { code: decoded.ok ? 'any' : 'INVALID_ARGUMENT', within: decoded.ok ? null : ['(request)'], mayTimeOut };
          bump(rawKinds, c.kind);
          bump(perMethod, `${c.service}.${c.method}`);
          const outcome = await rawCall(raw, c.path, c.bytes, mayTimeOut ? FUTURE_DEADLINE_MS : CALL_DEADLINE_MS);
          note(`raw ${c.path} [${c.kind}]`, { bytes: c.bytes.length, hex: c.bytes.subarray(0, 24).toString('hex') }, judge(c.service, c.method, expect, outcome, (v) => def.responseDeserialize(v as Buffer)));
        }
      });
      assert.deepEqual(problems, [], `batch ${batch} (${allInvalid ? 'invalid only' : 'mixed'}): unexpected answers`);

      // Still serving: health and a read.
      const serving = await call<{ status: string }>(health, 'Check', { service: `${PACKAGE}.MetadataService` });
      assert.equal(serving.value?.status, 'SERVING', `batch ${batch}: health ${serving.error?.details ?? serving.value?.status}`);
      const got = await call<{ file: { metadata: { file_id: string } } }>(clients.MetadataService, 'Get', { file_id: 'f1' });
      assert.equal(got.value?.file.metadata.file_id, 'f1', `batch ${batch}: Get after the batch: ${got.error?.details}`);

      // The stream holds exactly the writes that answered OK, besides the coordinator's own events.
      const afterSeq = await waitForCaughtUp(stack);
      const stored: number[] = [];
      const unaccounted: string[] = [];
      for await (const events of readStream(stack.client.js, stack.client.jsm, stack.config.nats.stream, { fromSeq: beforeSeq + 1, toSeq: afterSeq })) {
        for (const e of events) {
          const decoded = decodeEvent(e.subject, e.data);
          if (decoded._tag === 'Right' && !API_EVENT_TYPES.has(decoded.right.type)) {
            bump(ownEvents, decoded.right.type); // the leader's own: health verdicts, sync requests
            continue;
          }
          stored.push(e.seq);
          if (!appended.has(e.seq)) unaccounted.push(`${e.seq}: ${Buffer.from(e.data).toString().slice(0, 300)}`);
        }
      }
      assert.deepEqual(unaccounted, [], `batch ${batch}: events stored although no write answered OK with their sequence`);
      assert.deepEqual(stored, [...appended].sort((a, b) => a - b), `batch ${batch}: writes that answered OK vs stored events`);
      okWrites += appended.size;
      if (allInvalid) assert.equal(appended.size, 0, `batch ${batch}: an invalid-only batch stored something`);

      const afterView = await readEtcdView(stack);
      if (afterSeq === beforeSeq) {
        assert.deepStrictEqual(asObject(afterView), asObject(beforeView), `batch ${batch}: the view changed although nothing was stored`);
        unchangedBatches++;
      } else {
        assert.deepStrictEqual(asObject(afterView), asObject(expectedEntries(stack, await foldStream(stack))), `batch ${batch}: the view is not the fold of the stream`);
      }
    }

    assert.deepEqual([...perMethod.keys()].sort(), METHODS.map((m) => `${m.service}.${m.method}`).sort(), 'every method was fuzzed');
    assert.deepEqual(KINDS.filter((k) => !kinds.has(k)), [], 'every kind of typed request was sent');
    assert.deepEqual(RAW_KINDS.filter((k) => !rawKinds.has(k)), [], 'every kind of raw request was sent');
    t.diagnostic(`typed kinds: ${table(kinds)}`);
    t.diagnostic(`raw kinds: ${table(rawKinds)}`);
    t.diagnostic(`status codes: ${table(codes)}`);
    t.diagnostic(`per method: ${table(perMethod)}`);
    t.diagnostic(`writes that answered OK and were stored: ${okWrites}; the coordinator's own events: ${table(ownEvents) || 'none'}; byte-identical batches: ${unchangedBatches}/${BATCHES}; ${Date.now() - started} ms`);
  });
});
