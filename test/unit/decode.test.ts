// What a region reads when its event is refused: one `field: expected X, got Y` per problem.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { MAX_EVENT_BYTES, decodeEvent, decodeValue, salvageId } from '../../streams/decode.js';
import { eventCodecs, type CoordinatorEvent } from '../../streams/events.js';
import { subjectFor } from '../../streams/subjects.js';
import {
  conflictResolved,
  encode,
  fileDeleted,
  fileMeta,
  fileRegistered,
  fileUpdated,
  policySet,
  regionDeregistered,
  regionHeartbeat,
  regionHealth,
  syncRequested,
  syncDemanded,
  regionRegistered,
  syncAcked,
} from '../support/events.js';

fc.configureGlobal({ includeErrorInReport: true });

const errorOf = (value: unknown): string => {
  const result = decodeValue(value);
  assert.ok(E.isLeft(result), `expected a decode error for ${JSON.stringify(value)}`);
  return result.left;
};
const bytesErrorOf = (subject: string, bytes: Uint8Array): string => {
  const result = decodeEvent(subject, bytes);
  assert.ok(E.isLeft(result), 'expected a decode error');
  return result.left;
};

const without = (event: object, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(event).filter(([k]) => k !== key));

const examples: CoordinatorEvent[] = [
  fileRegistered({ replicas: 2, file: { attributes: { owner: 'ann' } } }),
  fileUpdated(),
  fileDeleted(),
  syncAcked(),
  regionRegistered(),
  regionDeregistered({ reason: 'decommissioned' }),
  regionHeartbeat(),
  regionHealth({ state: 'degraded' }),
  syncRequested(),
  syncDemanded(),
  conflictResolved({ choice: { merged: fileMeta() } }),
  policySet(),
];

describe('decode: valid events', () => {
  test('every builder event decodes to itself, from a value and from bytes on its subject', () => {
    assert.deepEqual(new Set(examples.map((e) => e.type)), new Set(Object.keys(eventCodecs)));
    for (const event of examples) {
      assert.deepEqual(decodeValue(event), E.right(event));
      assert.deepEqual(decodeEvent(subjectFor(event), encode(event)), E.right(event));
    }
  });

  test('an event of exactly the size limit is accepted (padding counts)', () => {
    const body = encode(fileUpdated());
    const bytes = new Uint8Array(MAX_EVENT_BYTES).fill(0x20);
    bytes.set(body, 0);
    assert.ok(E.isRight(decodeEvent('jzse.changes.r1', bytes)));
  });
});

describe('decode: errors name the field and the reason', () => {
  test('a bad field value', () => {
    assert.equal(errorOf({ ...fileRegistered(), file: fileMeta({ size: -1 }) }), 'file.size: expected non-negative integer, got -1');
    assert.equal(errorOf({ ...fileUpdated(), clock: { r1: 1.5 } }), 'clock.r1: expected non-negative integer, got 1.5');
    assert.equal(errorOf({ ...regionRegistered(), location: { latitude: 91, longitude: 0 } }), 'location.latitude: expected latitude between -90 and 90, got 91');
    assert.equal(errorOf({ ...regionRegistered(), region: 'EU' }), 'region: expected region id (1-64 chars of a-z 0-9 _ -), got "EU"');
    assert.equal(errorOf({ ...fileUpdated(), id: 'a/b' }), 'id: expected id (1-128 chars of A-Z a-z 0-9 . _ : -), got "a/b"');
    assert.equal(errorOf({ ...policySet(), sync: 'sometimes' }), 'sync: expected "eager" | "lazy" | "on_demand", got "sometimes"');
    assert.equal(
      errorOf({ ...regionHeartbeat(), status: { state: 'asleep', syncLag: 0, storageUsed: 0, loadLevel: 0 } }),
      'status.state: expected "healthy" | "degraded" | "offline", got "asleep"',
    );
  });

  test('array elements are numbered in the path', () => {
    assert.equal(
      errorOf({ ...syncAcked(), files: [{ fileId: 'f1', clock: { r1: 1 } }, { fileId: 'f2', clock: { r1: 'x' } }] }),
      'files.1.clock.r1: expected non-negative integer, got "x"',
    );
    assert.equal(errorOf({ ...syncAcked(), files: [] }), 'files: expected 1 to 1000 acked versions, got []');
  });

  test('a missing field says "got nothing"', () => {
    assert.equal(errorOf(without(fileUpdated(), 'at')), 'at: expected RFC 3339 timestamp with zone (e.g. 2026-11-25T10:00:00Z), got nothing');
  });

  test('timestamps need a zone', () => {
    assert.match(errorOf({ ...fileUpdated(), at: '2026-01-01T10:00:00' }), /^at: expected RFC 3339 timestamp with zone/);
    assert.match(errorOf({ ...fileUpdated(), at: '2026-01-01 10:00:00Z' }), /^at: expected RFC 3339 timestamp with zone/);
  });

  test('a timestamp that names no real day is refused (RFC 3339: day 30 does not exist in February)', () => {
    assert.match(errorOf({ ...fileUpdated(), at: '2026-02-30T10:00:00Z' }), /^at: expected RFC 3339 timestamp/);
  });

  test('several problems: one line each, separated by "; "', () => {
    const error = errorOf({ ...fileRegistered(), file: { ...fileMeta(), size: -1, path: '' }, replicas: 0 });
    assert.deepEqual(error.split('; '), [
      'file.path: expected non-empty string of at most 4096 chars, got ""',
      'file.size: expected non-negative integer, got -1',
      'replicas: expected integer >= 1, got 0',
    ]);
  });

  test('long values are shortened in the message', () => {
    const error = errorOf({ ...regionDeregistered(), reason: 'x'.repeat(2000) });
    assert.match(error, /^reason: expected string of at most 1024 chars, got "x+\.\.\.$/);
    assert.ok(error.length < 200);
  });

  test('a clock key that is not a region id is an error naming it, not silently dropped', () => {
    assert.match(errorOf({ ...fileUpdated(), clock: { r1: 2, R2: 5 } }), /^clock\.R2: expected region id/);
  });

  test('an attribute key over 256 chars is an error naming it, not silently dropped', () => {
    const long = 'k'.repeat(300);
    assert.match(errorOf({ ...fileRegistered(), file: { ...fileMeta(), attributes: { [long]: 'v' } } }), /^file\.attributes\./);
  });

  test('every error line has the form `path: expected X, got Y` or `path: not a field of <type> (schema 1)`', () => {
    const field = fc.constantFrom('id', 'at', 'region', 'clock', 'file', 'files', 'status', 'location', 'capacity', 'name', 'pattern', 'choice', 'operator', 'fileId');
    fc.assert(
      fc.property(fc.constantFrom(...examples), field, fc.jsonValue({ maxDepth: 2 }), (event, key, value) => {
        const result = decodeValue({ ...event, [key]: value });
        if (E.isRight(result)) return;
        // A path is dotted names, with keys that are not plain names quoted in brackets: clock[" "].
        for (const line of result.left.split(/; (?=(?:[A-Za-z0-9_.:()-]|\["(?:[^"\\]|\\.)*"\])+: (?:expected |not a field ))/)) assert.match(line, /^([A-Za-z0-9_.:()-]|\[".*?"\])+: (expected .+, got .+|not a field of [a-z.]+ \(schema 1\))$/s);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decode: envelope and bytes', () => {
  test('an unknown type names the type field and lists the known ones', () => {
    const error = errorOf({ ...fileUpdated(), type: 'file.renamed' });
    assert.match(error, /^type: expected one of file\.registered, file\.updated, .*policy\.set, got "file\.renamed"$/);
    assert.equal(errorOf({ schema: 1 }), `type: expected one of ${Object.keys(eventCodecs).join(', ')}, got nothing`);
  });

  test('a wrong or missing schema version', () => {
    assert.equal(errorOf({ ...fileUpdated(), schema: 2 }), 'schema: expected 1, got 2');
    assert.equal(errorOf({ ...fileUpdated(), schema: '1' }), 'schema: expected 1, got "1"');
    assert.equal(errorOf(without(fileUpdated(), 'schema')), 'schema: expected 1, got nothing');
  });

  test('JSON that is not an object', () => {
    assert.equal(errorOf(null), '(event): expected a JSON object, got null');
    assert.equal(errorOf(42), '(event): expected a JSON object, got 42');
    assert.match(errorOf([fileUpdated()]), /^\(event\): expected a JSON object, got \[/);
  });

  test('non-JSON bytes', () => {
    assert.match(bytesErrorOf('jzse.changes.r1', new TextEncoder().encode('{"schema":1,')), /^event is not valid JSON: /);
    assert.match(bytesErrorOf('jzse.changes.r1', new Uint8Array()), /^event is not valid JSON: /);
  });

  test('non-UTF-8 bytes', () => {
    assert.equal(bytesErrorOf('jzse.changes.r1', new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 'event is not valid UTF-8');
    assert.equal(bytesErrorOf('jzse.changes.r1', new Uint8Array([0xff])), 'event is not valid UTF-8');
  });

  test('the decoder is shared: a truncated character does not leak into the next event', () => {
    assert.equal(bytesErrorOf('jzse.changes.r1', new Uint8Array([0x7b, 0xe2, 0x82])), 'event is not valid UTF-8');
    const event = fileUpdated({ file: { path: '/données/é' } });
    assert.deepStrictEqual(decodeEvent('jzse.changes.r1', encode(event)), E.right(event));
  });

  test('oversized events, checked before anything else', () => {
    const bytes = new Uint8Array(MAX_EVENT_BYTES + 1).fill(0xff);
    assert.equal(bytesErrorOf('jzse.changes.r1', bytes), `event is ${MAX_EVENT_BYTES + 1} bytes, more than ${MAX_EVENT_BYTES}`);
  });

  test('a valid event on another subject names the subjects it may use', () => {
    assert.equal(
      bytesErrorOf('jzse.admin.policies', encode(fileUpdated())),
      'subject: file.updated from region/operator must be published on jzse.changes.r1 or jzse.api.changes.r1, got jzse.admin.policies',
    );
    assert.equal(
      bytesErrorOf('jzse.changes.r1', encode(regionHeartbeat())),
      'subject: region.heartbeat from region/operator must be published on jzse.regions.status.r1, jzse.api.regions.status.r1 or jzse.regions.status, got jzse.changes.r1',
    );
  });

  test("a region's event on another region's subject names the region", () => {
    assert.equal(
      bytesErrorOf('jzse.changes.r2', encode(fileUpdated())),
      'region: r1 is not the region of subject jzse.changes.r2 (a region publishes only for itself)',
    );
  });

  test('salvageId finds the id of an invalid event, and only a plausible one', () => {
    assert.equal(salvageId(encode({ ...fileUpdated({ id: 'e-42' }), schema: 9 })), 'e-42');
    assert.equal(salvageId(encode({ id: 7 })), undefined);
    assert.equal(salvageId(encode({ id: 'x'.repeat(129) })), undefined);
    assert.equal(salvageId(new Uint8Array([0xff])), undefined);
    assert.equal(salvageId(encode(null)), undefined);
  });

  test('salvageId reads the id of an oversized event too, and only an id within the id rule', () => {
    const big = encode({ ...fileUpdated({ id: 'big-1' }), pad: 'x'.repeat(MAX_EVENT_BYTES) });
    assert.ok(big.byteLength > MAX_EVENT_BYTES);
    assert.equal(salvageId(big), 'big-1');
    assert.equal(salvageId(encode({ id: 'a/b' })), undefined, 'outside the id rule: the rejection goes under seq-<n>');
    assert.equal(salvageId(encode([{ id: 'in-an-array' }])), undefined);
  });
});
