// The point-read replies encoded straight from records (wire.ts) against the generic path they
// replace (present.ts + proto-loader): the same bytes for any record, odd strings and numbers included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FileRecord, RegionLocation } from '../../projections/view.js';
import { globalFile, location } from '../../src/api/present.js';
import { serviceDefinition } from '../../src/api/proto.js';
import { batchGetResponse, getResponse, locationsResponse } from '../../src/api/wire.js';

fc.configureGlobal({ includeErrorInReport: true });

const metadata = serviceDefinition('MetadataService');
const generic = (method: 'Get' | 'GetLocations' | 'BatchGet', reply: unknown): Buffer => metadata[method]!.responseSerialize(reply);

// Any UTF-16 code unit (lone surrogates too), around protobufjs's 40-unit switch and 1- to 3-byte lengths.
const unit = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xffff })).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string({ unit, maxLength: 45 }),
  fc.string({ unit, minLength: 100, maxLength: 300 }),
  fc.constantFrom('', 'x'.repeat(20_000), '\u{1F600}'.repeat(30), 'é'.repeat(39)),
  fc.tuple(fc.integer({ min: 38, max: 41 }), fc.integer({ min: 0xd800, max: 0xdfff })).map(([n, c]) => `${String.fromCharCode(c)}${'a'.repeat(n)}`),
);
const key = fc.oneof(fc.constantFrom('r1', 'r2', '10', '2', '__proto__', 'constructor', 'toString'), fc.string({ unit, maxLength: 5 }));
const count = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const instant = fc.oneof(
  fc.integer({ min: Date.UTC(-300, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', 'not a date', '2026-01-01T00:00:00+01:00'),
);
const clock = fc.dictionary(key, count, { maxKeys: 4 });
const loc: fc.Arbitrary<RegionLocation> = fc.record({
  regionId: text,
  state: fc.constantFrom('synced', 'syncing', 'stale'),
  lastSyncAt: fc.option(instant, { nil: null }),
  clock,
});
const file: fc.Arbitrary<FileRecord> = fc.record({
  fileId: text, path: text, size: count, checksum: text, modifiedAt: instant,
  attributes: fc.dictionary(key, text, { maxKeys: 4 }),
  deleted: fc.boolean(), clock, locations: fc.array(loc, { maxLength: 4 }), primary: text,
  replicas: fc.oneof(fc.nat({ max: 5 }), fc.constantFrom(-1, 2 ** 31 - 1)),
  version: fc.record({ eventId: text, seq: count, region: text, at: instant }),
  versions: count, recentEventIds: fc.constant([]), openConflicts: fc.constant([]),
});

describe('point-read replies encoded from records', () => {
  test('Get: the same bytes as present.ts through proto-loader', () => {
    fc.assert(fc.property(file, count, (f, seq) => {
      assert.deepEqual(getResponse(f, seq).bytes, generic('Get', { file: globalFile(f), view_sequence: String(seq) }));
    }), { numRuns: 2000 });
  });

  test('GetLocations: the same bytes', () => {
    fc.assert(fc.property(file, count, (f, seq) => {
      assert.deepEqual(locationsResponse(f, seq).bytes, generic('GetLocations', { locations: f.locations.map(location), view_sequence: String(seq) }));
    }), { numRuns: 1000 });
  });

  test('BatchGet: the same bytes, files and missing ids in order, encoded over several turns', async () => {
    await fc.assert(fc.asyncProperty(fc.array(file, { maxLength: 6 }), fc.array(text, { maxLength: 4 }), count, fc.integer({ min: 1, max: 4 }), async (files, missing, seq, chunk) => {
      const expected = generic('BatchGet', { files: files.map(globalFile), missing, view_sequence: String(seq) });
      assert.deepEqual((await batchGetResponse(files, missing, seq, chunk)).bytes, expected);
    }), { numRuns: 300 });
  });
});
