// Rule 7 of docs/events.md for entries that fail to decode: in an event of independent entries
// (sync.acked files, sync.requested files, sync.demanded fileIds) a bad entry is rejected alone,
// with its reason, and the others are applied; a problem outside the entries still rejects it all.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { foldStored as fold, stepStored as step } from '../support/events.js';
import { decodeEvent, decodeValue } from '../../streams/decode.js';
import { syncAcksSubject, syncDemandsSubject } from '../../streams/subjects.js';
import { fileRegistered, foldEvents, given, regionRegistered, rejectionOf, stored, syncAcked, syncDemanded, syncRequested, encode, policySet } from '../support/events.js';

fc.configureGlobal({ includeErrorInReport: true });

const ID_RULE = 'id (1-128 chars of A-Z a-z 0-9 . _ : -)';
const regions = ['r1', 'r2', 'r3'].map((region) => regionRegistered({ region }));
const files = Array.from({ length: 100 }, (_, i) => fileRegistered({ region: 'r1', file: { fileId: `f${String(i).padStart(5, '0')}` } }));
const acks = files.map((f) => ({ fileId: f.file.fileId, clock: f.clock }));
const BAD = 'f00005~c6dhsxr';

/** The message as a region would publish it, one entry replaced by raw JSON. */
const withEntry = (event: object, field: string, index: number, entry: unknown) => {
  const value = JSON.parse(JSON.stringify(event)) as Record<string, unknown[]>;
  (value[field] as unknown[])[index] = entry;
  return value;
};

describe('decodeEvent: entries decoded one by one', () => {
  test('an ack with one undecodable entry decodes to the other 99, the bad one listed with its reason and place', () => {
    const value = withEntry(syncAcked({ id: 'ack-100', files: acks }), 'files', 42, { fileId: BAD, clock: { r1: 1 } });
    assert.ok(E.isLeft(decodeValue(value)), 'as something to send, the event is invalid');
    const decoded = decodeEvent(syncAcksSubject('r2'), encode(value));
    assert.ok(E.isRight(decoded), E.isLeft(decoded) ? decoded.left : '');
    const event = decoded.right;
    assert.equal(event.type, 'sync.acked');
    if (event.type !== 'sync.acked') return;
    assert.equal(event.files.length, 99);
    assert.ok(!event.files.some((f) => f.fileId === BAD));
    assert.deepEqual(event.invalidEntries, [{ index: 42, reason: `files.42.fileId: expected ${ID_RULE}, got "${BAD}"` }]);
  });

  test('entries that are not objects, or have a bad clock, are each named', () => {
    const value = withEntry(withEntry(syncAcked({ files: acks.slice(0, 5) }), 'files', 1, 'f1'), 'files', 3, { fileId: 'f00003', clock: { R2: 1 } });
    const decoded = decodeEvent(syncAcksSubject('r2'), encode(value));
    assert.ok(E.isRight(decoded) && decoded.right.type === 'sync.acked');
    assert.deepEqual(decoded.right.invalidEntries?.map((x) => x.index), [1, 3]);
    assert.match(decoded.right.invalidEntries?.[0]?.reason ?? '', /^files\.1: expected /);
    assert.match(decoded.right.invalidEntries?.[1]?.reason ?? '', /^files\.3\.clock\.R2: expected region id/);
  });

  test('a problem outside the entries, no good entry at all, or too many entries: the whole event is rejected as before', () => {
    const badEnvelope = { ...withEntry(syncAcked({ files: acks.slice(0, 3) }), 'files', 0, { fileId: BAD, clock: {} }), region: 'R2' };
    const allBad = withEntry(syncAcked({ files: acks.slice(0, 1) }), 'files', 0, { fileId: BAD, clock: {} });
    const tooMany = { ...syncAcked(), files: Array.from({ length: 1001 }, (_, i) => (i === 7 ? { fileId: BAD, clock: {} } : acks[0])) };
    for (const value of [badEnvelope, allBad, tooMany]) {
      const decoded = decodeEvent(syncAcksSubject('r2'), encode(value));
      assert.deepEqual(decoded, decodeValue(value));
    }
  });

  test('generated: an ack decodes to exactly its valid entries, in order; each invalid one is listed once with its index', () => {
    const good = fc.constantFrom(...acks.slice(0, 10));
    const bad = fc.oneof(
      fc.constant({ fileId: BAD, clock: {} }), fc.constant({ fileId: 'f1' }), fc.constant(null), fc.constant({ fileId: 'f1', clock: { r1: -1 } }), fc.string(),
    );
    const entry = fc.oneof(good.map((v) => ({ ok: true, v })), bad.map((v): { ok: boolean; v: unknown } => ({ ok: false, v })));
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 30 }), (entries) => {
      const value = { ...syncAcked(), files: entries.map((e) => e.v) };
      const decoded = decodeEvent(syncAcksSubject('r2'), encode(value));
      const goodOnes = entries.filter((e) => e.ok);
      if (goodOnes.length === 0 || goodOnes.length === entries.length) {
        assert.deepEqual(decoded, decodeValue(value));
        return;
      }
      assert.ok(E.isRight(decoded) && decoded.right.type === 'sync.acked');
      assert.deepEqual(decoded.right.files, goodOnes.map((e) => e.v));
      assert.deepEqual(decoded.right.invalidEntries?.map((x) => x.index), entries.flatMap((e, i) => (e.ok ? [] : [i])));
      for (const x of decoded.right.invalidEntries ?? []) assert.match(x.reason, new RegExp(`^files\\.${x.index}(\\.|:)`));
    }), { numRuns: 300 });
  });
});

describe('the fold: a bad entry is rejected alone, the rest applied', () => {
  const base = foldEvents(...regions, ...files);

  test('sync.acked: 99 good entries clear their pending entries; the rejection names the undecodable one', () => {
    const value = withEntry(syncAcked({ id: 'ack-100', region: 'r2', files: acks }), 'files', 42, { fileId: BAD, clock: { r1: 1 } });
    const view = fold(base, [stored(base.seq + 1, encode(value), { subject: syncAcksSubject('r2') })]);
    const r2 = [...view.pending.keys()].filter((k) => k.startsWith('r2/'));
    assert.deepEqual(r2, ['r2/f00042'], 'only the file of the bad entry is still owed');
    assert.equal(view.files.get('f00041')?.locations.find((l) => l.regionId === 'r2')?.state, 'synced');
    assert.equal(rejectionOf(view, 'ack-100'), `partially applied: files.42.fileId: expected ${ID_RULE}, got "${BAD}"`);
  });

  test('sync.acked: fold-level problems keep the index as sent, after an undecodable entry', () => {
    const value = withEntry(syncAcked({ id: 'ack-mixed', region: 'r2', files: [acks[0]!, acks[1]!, { fileId: 'nope', clock: { r1: 1 } }] }), 'files', 0, { fileId: BAD, clock: {} });
    const view = fold(base, [stored(base.seq + 1, encode(value), { subject: syncAcksSubject('r2') })]);
    assert.equal(view.pending.has('r2/f00001'), false);
    assert.equal(rejectionOf(view, 'ack-mixed'), `partially applied: files.0.fileId: expected ${ID_RULE}, got "${BAD}"; files.2.fileId: nope is not registered`);
  });

  test('sync.requested: the good entries are recorded as requested; the bad one is rejected alone', () => {
    const requested = syncRequested({ id: 'dispatched:x', region: 'r2', files: files.slice(0, 3).map((f) => ({ fileId: f.file.fileId, eventId: f.id, attempt: 1 })) });
    const value = withEntry(requested, 'files', 1, { fileId: BAD, eventId: files[1]!.id, attempt: 1 });
    const view = fold(base, [stored(base.seq + 1, encode(value), { subject: 'jzse.sync.dispatched' })]);
    assert.deepEqual(['r2/f00000', 'r2/f00001', 'r2/f00002'].map((k) => view.pending.get(k)?.requested?.attempt ?? null), [1, null, 1]);
    assert.equal(rejectionOf(view, 'dispatched:x'), `partially applied: files.1.fileId: expected ${ID_RULE}, got "${BAD}"`);
  });

  test('sync.demanded: the good file ids are demanded; the bad one is rejected alone', () => {
    const onDemand = fold(base, [stored(base.seq + 1, policySet({ id: 'p-od', pattern: '/data/**', sync: 'on_demand' }))]);
    const value = withEntry(syncDemanded({ id: 'demand-x', region: 'r3', fileIds: ['f00000', 'f00001', 'f00002'] }), 'fileIds', 2, BAD);
    const r = step(onDemand, stored(onDemand.seq + 1, encode(value), { subject: syncDemandsSubject('r3') }));
    assert.deepEqual(['r3/f00000', 'r3/f00001', 'r3/f00002'].map((k) => r.view.pending.get(k)?.demanded ?? null), [true, true, null]);
    assert.equal(rejectionOf(r.view, 'demand-x'), `partially applied: fileIds.2: expected ${ID_RULE}, got "${BAD}"`);
  });

  test('a valid ack is unchanged: no rejection', () => {
    given(...regions, ...files).when(syncAcked({ id: 'ack-ok', region: 'r3', files: acks })).then((view) => {
      assert.equal(rejectionOf(view, 'ack-ok'), undefined);
      assert.equal([...view.pending.keys()].filter((k) => k.startsWith('r3/')).length, 0);
    });
  });
});
