// The deciders, given(events) / when(event) / then(decision | rejection): every rejection code is
// reached, each naming the event's field, and each decision kind is taken.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REJECTION_CODES, type RejectionCode } from '../../projections/rejection.js';
import {
  conflictResolved, fileDeleted, fileRegistered, fileUpdated, given, iso, policySet, regionDeregistered, regionHealth,
  regionHeartbeat, regionRegistered, syncAcked, syncDemanded, syncRequested,
} from '../support/events.js';

const r1 = regionRegistered({ region: 'r1', id: 'join-r1' });
const r2 = regionRegistered({ region: 'r2', id: 'join-r2' });
const f1 = fileRegistered(); // r1, clock {r1: 1}
const manual = policySet({ id: 'manual', pattern: '**', conflict: 'manual', sync: 'lazy' });
const v2 = fileUpdated({ id: 'v2', clock: { r1: 2 } });
// r2 saw only version 1: CONCURRENT with version 2.
const concurrent = fileUpdated({ id: 'c1', region: 'r2', clock: { r1: 1, r2: 1 } });

const seen = new Set<RejectionCode>();
const rejects = (o: { verdict: { rejection: { code: RejectionCode } | null } | null }) => {
  const code = o.verdict?.rejection?.code;
  if (code !== undefined) seen.add(code);
};

describe('files decider', () => {
  test('a new file is applied; an EQUAL change is a no-op; AFTER applied; CONCURRENT a conflict; a repeat a duplicate', () => {
    given(r1).when(f1).thenDecides('applied', (v) => assert.equal(v.files.get('f1')?.versions, 1));
    given(r1, f1).when(fileUpdated({ id: 'same', clock: { r1: 1 } })).thenDecides('no_op');
    given(r1, f1).when(fileUpdated({ clock: { r1: 2 } })).thenDecides('applied');
    given(r1, r2, f1, v2).when(concurrent).thenDecides('conflict', (v) => assert.ok(v.conflicts.has('c1')));
    given(r1, f1).when(f1).thenDecides('duplicate');
  });

  test('refusals name the field', () => {
    rejects(given().when(f1).thenRejects('not_found', 'region'));
    rejects(given(r1).when(fileUpdated({ file: { fileId: 'ghost' } })).thenRejects('not_found', 'fileId'));
    rejects(given(r1, f1).when(fileRegistered({ id: 'again', clock: { r1: 5 } })).thenRejects('already_exists', 'file.fileId'));
    rejects(given(r1, f1, fileUpdated({ clock: { r1: 3 } })).when(fileUpdated({ id: 'old', clock: { r1: 2 } })).thenRejects('stale', 'clock'));
    rejects(given(r1, r2, f1).when(fileUpdated({ id: 'zero', region: 'r2', clock: { r1: 1 } })).thenRejects('invalid', 'clock.r2'));
  });

  test('registering a deleted file again with a clock not after the delete is stale, and the reason names both clocks', () => {
    const o = given(r1, f1, fileDeleted({ clock: { r1: 2 } })).when(fileRegistered({ id: 'reborn', clock: { r1: 1 } })).thenRejects('stale', 'clock');
    assert.match(o.view.rejected.get('reborn')?.reason ?? '', /^clock: \{"r1":1\} is not after the clock of f1's delete \{"r1":2\}/);
    given(r1, f1, fileDeleted({ clock: { r1: 2 } })).when(fileRegistered({ id: 'reborn-ok', clock: { r1: 3 } })).thenDecides('applied');
  });
});

describe('regions decider', () => {
  test('membership, heartbeats and verdicts', () => {
    given().when(r1).thenDecides('applied');
    given(r1).when(regionHeartbeat({ region: 'r1', at: iso(500) })).thenDecides('applied');
    given(r1).when(regionDeregistered({ region: 'r1' })).thenDecides('applied', (v) => assert.equal(v.regions.get('r1')?.active, false));
    rejects(given().when(regionDeregistered({ region: 'r9' })).thenRejects('not_found', 'region'));
    rejects(given().when(regionHeartbeat({ region: 'r9' })).thenRejects('not_found', 'region'));
    rejects(given(regionRegistered({ region: 'r1', id: 'late', at: iso(5000) })).when(regionRegistered({ region: 'r1', id: 'early', at: iso(0) })).thenRejects('stale', 'at'));
    rejects(given(r1, regionHeartbeat({ region: 'r1', id: 'hb', at: iso(900) })).when(regionHealth({ region: 'r1', lastSeenAt: iso(0) })).thenRejects('stale', 'lastSeenAt'));
  });
});

describe('sync decider', () => {
  test('acks, demands and requests', () => {
    given(r1, r2, f1).when(syncAcked()).thenDecides('acked', (v) => assert.equal(v.pending.has('r2/f1'), false));
    given(r1, r2, f1).when(syncDemanded()).thenDecides('applied', (v) => assert.equal(v.pending.get('r2/f1')?.demanded, true));
    given(r1, r2, f1).when(syncRequested()).thenDecides('applied', (v) => assert.equal(v.pending.get('r2/f1')?.requested?.attempt, 1));
    rejects(given(r1, f1).when(syncAcked({ region: 'r9' })).thenRejects('not_found', 'region'));
    rejects(given(r1, r2, f1).when(syncAcked({ files: [{ fileId: 'f1', clock: { r1: 1 } }, { fileId: 'f1', clock: { r1: 9 } }] })).thenRejects('failed_precondition', 'files.1.clock'));
  });

  test('an ack of an older version moves a known copy\'s clock forward (never back) and leaves it stale', () => {
    const f1v3 = fileUpdated({ clock: { r1: 3 } });
    const held = given(r1, r2, f1, syncAcked({ id: 'ack-v1' }), fileUpdated({ clock: { r1: 2 } }), f1v3)
      .when(syncAcked({ id: 'ack-v2', files: [{ fileId: 'f1', clock: { r1: 2 } }] }))
      .thenDecides('acked').view.files.get('f1')?.locations.find((l) => l.regionId === 'r2');
    assert.deepEqual([held?.state, held?.clock], ['stale', { r1: 2 }]);
    const back = given(r1, r2, f1, fileUpdated({ clock: { r1: 2 } }), syncAcked({ id: 'ack-v2', files: [{ fileId: 'f1', clock: { r1: 2 } }] }), f1v3)
      .when(syncAcked({ id: 'ack-v1-late', files: [{ fileId: 'f1', clock: { r1: 1 } }] }))
      .thenDecides('acked').view.files.get('f1')?.locations.find((l) => l.regionId === 'r2');
    assert.deepEqual(back?.clock, { r1: 2 });
  });
});

describe('conflicts decider', () => {
  test('resolving: applied, then not open; a moved file refuses keep; a wrong merged id is invalid; no such conflict', () => {
    given(r1, r2, manual, f1, v2, concurrent).when(conflictResolved()).thenDecides('applied');
    rejects(given(r1, r2, manual, f1, v2, concurrent, conflictResolved()).when(conflictResolved({ id: 'again' })).thenRejects('failed_precondition', 'conflictId'));
    rejects(given(r1, r2, manual, f1, v2, concurrent, fileUpdated({ id: 'moved', clock: { r1: 3 } })).when(conflictResolved()).thenRejects('conflict', 'choice.keep'));
    const wrong = conflictResolved({ choice: { merged: { fileId: 'f9', path: '/x', size: 1, checksum: 'c', modifiedAt: iso(0) } } });
    rejects(given(r1, r2, manual, f1, v2, concurrent).when(wrong).thenRejects('invalid', 'choice.merged.fileId'));
    rejects(given().when(conflictResolved({ conflictId: 'nope' })).thenRejects('not_found', 'conflictId'));
  });
});

describe('policies decider', () => {
  test('newest wins; an older one is stale', () => {
    given().when(policySet()).thenDecides('applied');
    rejects(given(policySet({ id: 'new', at: iso(5000) })).when(policySet({ id: 'old', at: iso(0) })).thenRejects('stale', 'at'));
  });
});

describe('every rejection code', () => {
  test('is reached by some decider above', () => {
    assert.deepEqual([...seen].sort(), [...REJECTION_CODES].sort());
  });
});
