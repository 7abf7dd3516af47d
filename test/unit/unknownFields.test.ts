// Rule 10 of docs/events.md: "send only the fields listed here". A field the schema does not name is
// refused with a reason naming it, wherever it is (top level, inside file, location, status,
// capacity, choice, an ack entry), instead of being dropped without a word; and the events the
// gRPC API builds itself never carry one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { ProtoFileMetadata } from '../../src/api/requests.js';
import { changeOf, fileOf } from '../../src/api/services/metadata.js';
import { envelope } from '../../src/api/context.js';
import { decodeEvent, decodeValue } from '../../streams/decode.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { subjectFor, syncAcksSubject } from '../../streams/subjects.js';
import {
  conflictResolved, encode, fileDeleted, fileMeta, fileRegistered, fileUpdated, given, policySet, regionDeregistered, regionHealth,
  regionHeartbeat, regionRegistered, rejectionOf, syncAcked, syncDemanded, syncRequested,
} from '../support/events.js';

fc.configureGlobal({ includeErrorInReport: true });

const errorOf = (value: unknown): string => {
  const r = decodeValue(value);
  assert.ok(E.isLeft(r), `expected ${JSON.stringify(value).slice(0, 200)} to be refused`);
  return r.left;
};

const examples: CoordinatorEvent[] = [
  fileRegistered({ replicas: 2, file: { attributes: { owner: 'ann' } } }), fileUpdated(), fileDeleted(), syncAcked(),
  regionRegistered(), regionDeregistered({ reason: 'bye' }), regionHeartbeat(), regionHealth(), syncRequested(), syncDemanded(),
  conflictResolved(), conflictResolved({ id: 'resolve-merged', choice: { merged: fileMeta({ attributes: { a: 'b' } }) } }), policySet(),
];

describe('unknown fields are refused, naming the field', () => {
  test('at the top level and in every nested object', () => {
    assert.equal(errorOf({ ...fileUpdated(), colour: 'red' }), 'colour: not a field of file.updated (schema 1)');
    assert.equal(errorOf({ ...fileUpdated(), file: { ...fileMeta(), colour: 'red' } }), 'file.colour: not a field of file.updated (schema 1)');
    assert.equal(errorOf({ ...regionRegistered(), location: { latitude: 1, longitude: 2, altitude: 3 } }), 'location.altitude: not a field of region.registered (schema 1)');
    assert.equal(errorOf({ ...regionRegistered(), capacity: { totalBytes: 1, freeBytes: 1 } }), 'capacity.freeBytes: not a field of region.registered (schema 1)');
    assert.equal(errorOf({ ...regionHeartbeat(), status: { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0, cpu: 1 } }), 'status.cpu: not a field of region.heartbeat (schema 1)');
    assert.equal(errorOf({ ...conflictResolved(), choice: { keep: 'local', why: 'x' } }), 'choice.why: not a field of conflict.resolved (schema 1)');
    assert.equal(errorOf({ ...conflictResolved(), choice: { keep: 'local', merged: fileMeta() } }), 'choice.merged: not a field of conflict.resolved (schema 1)');
    assert.equal(errorOf({ ...conflictResolved(), choice: { merged: { ...fileMeta(), x: 1 } } }), 'choice.merged.x: not a field of conflict.resolved (schema 1)');
    assert.equal(errorOf({ ...syncRequested(), files: [{ fileId: 'f1', eventId: 'e1', attempt: 1, seq: 4 }] }), 'files.0.seq: not a field of sync.requested (schema 1)');
    assert.equal(errorOf({ ...fileDeleted(), file: fileMeta() }), 'file: not a field of file.deleted (schema 1)');
  });

  test('the fold\'s own annotation is no field of the wire', () => {
    assert.equal(errorOf({ ...syncAcked(), invalidEntries: [] }), 'invalidEntries: not a field of sync.acked (schema 1)');
  });

  test('alongside other problems, both are reported', () => {
    assert.equal(errorOf({ ...fileUpdated(), file: { ...fileMeta(), size: -1, colour: 'red' } }), 'file.size: expected non-negative integer, got -1; file.colour: not a field of file.updated (schema 1)');
  });

  test('maps take any key their rules allow: clocks and attributes are not "fields"', () => {
    assert.ok(E.isRight(decodeValue(fileUpdated({ clock: { r1: 2, 'any-region': 5 }, file: { attributes: { colour: 'red', 'x y': '1' } } }))));
  });

  test('an unknown field in one ack entry rejects that entry alone (rule 7); the fold applies the rest', () => {
    const ack = { ...syncAcked({ id: 'ack-extra', region: 'r2', files: [{ fileId: 'f1', clock: { r1: 1 } }, { fileId: 'f2', clock: { r1: 1 } }] }) };
    const wire = { ...ack, files: [ack.files[0], { ...ack.files[1], note: 'x' }] };
    assert.equal(errorOf(wire), 'files.1.note: not a field of sync.acked (schema 1)');
    const decoded = decodeEvent(syncAcksSubject('r2'), encode(wire));
    assert.ok(E.isRight(decoded) && decoded.right.type === 'sync.acked');
    assert.deepEqual(decoded.right.files, [{ fileId: 'f1', clock: { r1: 1 } }]);
    assert.deepEqual(decoded.right.invalidEntries, [{ index: 1, reason: 'files.1.note: not a field of sync.acked (schema 1)' }]);
  });

  test('the fold rejects such an event with that reason, and stores nothing of it', () => {
    const event = { ...fileRegistered(), colour: 'red' } as unknown as CoordinatorEvent;
    given(regionRegistered()).when(event).then((view) => {
      assert.equal(view.files.size, 0);
      assert.equal(rejectionOf(view, event.id), 'colour: not a field of file.registered (schema 1)');
    });
  });

  test('generated: every valid event still decodes, and any added unknown key is refused by name, from a value and from bytes', () => {
    const key = fc.oneof(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('__proto__', 'constructor', 'toString', 'fileId', 'file', 'clock', 'files', 'seq', 'operator'));
    fc.assert(fc.property(fc.constantFrom(...examples), key, fc.jsonValue({ maxDepth: 1 }), (event, k, v) => {
      assert.ok(E.isRight(decodeValue(event)), event.type);
      if (Object.prototype.hasOwnProperty.call(event, k)) return;
      const value = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
      Object.defineProperty(value, k, { value: v, enumerable: true, writable: true, configurable: true });
      const reason = `${k}: not a field of ${event.type} (schema 1)`;
      assert.ok(errorOf(value).split('; ').includes(reason), `${event.type} + ${k}: ${errorOf(value)}`);
      const bytes = decodeEvent(subjectFor(event), encode(value));
      assert.ok(E.isLeft(bytes) && bytes.left.split('; ').includes(reason));
    }), { numRuns: 500 });
  });
});

describe('the gRPC path never builds an unknown field', () => {
  const clock = fc.dictionary(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), fc.nat(1000).map(String), { maxKeys: 3 });
  const proto = fc.record({
    file_id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), path: fc.string({ minLength: 1, maxLength: 20 }), size: fc.nat().map(String),
    checksum: fc.string({ maxLength: 10 }), modified_at: fc.record({ seconds: fc.integer({ min: 0, max: 2e9 }).map(String), nanos: fc.nat(999_999_999) }),
    vector_clock: clock, deleted: fc.boolean(), attributes: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  });

  test('changes (Register, Update, HandleChange, BroadcastChange) and merged resolutions decode under the strict rule', () => {
    fc.assert(fc.property(proto, fc.constantFrom('file.registered' as const, 'file.updated' as const, 'file.deleted' as const), fc.nat(5), (raw, type, replicas) => {
      const m = ProtoFileMetadata.decode(raw);
      assert.ok(E.isRight(m));
      const event = changeOf(envelope({ event_id: 'e-1', at: null }), type, 'r1', m.right, replicas);
      const decoded = decodeValue(event);
      assert.ok(E.isRight(decoded), E.isLeft(decoded) ? decoded.left : '');
      assert.ok(E.isRight(decodeValue({ ...conflictResolved(), choice: { merged: fileOf(m.right) } })));
    }), { numRuns: 300 });
  });
});
