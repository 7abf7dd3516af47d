// The fold's rules, one example each: given (past events) / when (an event) / then (the view).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { View } from '../../projections/view.js';
import {
  AT0,
  changedRecords,
  conflictResolved,
  encode,
  fileDeleted,
  fileMeta,
  fileRegistered,
  fileUpdated,
  given,
  iso,
  policySet,
  regionDeregistered,
  regionHeartbeat,
  regionRegistered,
  rejectionOf,
  stored,
  syncAcked,
} from '../support/events.js';

const r1 = regionRegistered({ region: 'r1' });
const r2 = regionRegistered({ region: 'r2' });
const r3 = regionRegistered({ region: 'r3' });
const regions = [r1, r2, r3] as const;
const f1 = fileRegistered({ region: 'r1', clock: { r1: 1 } });

const file = (view: View, id = 'f1') => {
  const record = view.files.get(id);
  assert.ok(record !== undefined, `file ${id} is in the view`);
  return record;
};
const location = (view: View, regionId: string, fileId = 'f1') => file(view, fileId).locations.find((l) => l.regionId === regionId);
/** Nothing changed but the sequence, and nothing was written. */
const unchanged = (view: View, o: { before: View; touched: readonly unknown[] }) => {
  assert.deepEqual(changedRecords(o.before, view), []);
  assert.deepEqual(o.touched, []);
};
/** The event was rejected, with a reason matching `reason`, and nothing else changed. */
const rejectedOnly = (id: string, reason: RegExp) => (view: View, o: { before: View }) => {
  assert.match(rejectionOf(view, id) ?? '(not rejected)', reason);
  assert.deepEqual(changedRecords(o.before, view).map((c) => c.key), [`rejected/${encodeURIComponent(id)}`]);
};

describe('file registration, update and delete', () => {
  test('register: the origin holds the only synced copy, every other active region gets a pending entry', () => {
    given(...regions).when(fileRegistered({ file: { size: 10, attributes: { owner: 'ann' } }, replicas: 2 })).then((view, o) => {
      const f = file(view);
      assert.equal(f.size, 10);
      assert.deepEqual(f.attributes, { owner: 'ann' });
      assert.deepEqual(f.clock, { r1: 1 });
      assert.equal(f.deleted, false);
      assert.equal(f.primary, 'r1');
      assert.equal(f.replicas, 2);
      assert.equal(f.versions, 1);
      assert.deepEqual(f.version, { eventId: 'reg-r1-f1-r1.1', seq: 4, region: 'r1', at: AT0 });
      assert.deepEqual(f.locations, [{ regionId: 'r1', state: 'synced', lastSyncAt: AT0, clock: { r1: 1 } }]);
      assert.deepEqual([...view.pending.keys()].sort(), ['r2/f1', 'r3/f1']);
      assert.deepEqual(view.pending.get('r2/f1'), { regionId: 'r2', fileId: 'f1', eventId: 'reg-r1-f1-r1.1', seq: 4, clock: { r1: 1 }, deleted: false, since: '2026-01-01T00:00:04.000Z', requested: null });
      assert.deepEqual(o.event?.type, 'file.registered');
    });
  });

  test('register without attributes or replicas: empty attributes, 3 replicas', () => {
    given(r1).when(fileRegistered()).then((view) => {
      assert.deepEqual(file(view).attributes, {});
      assert.equal(file(view).replicas, 3);
    });
  });

  test('update (AFTER): new content and clock, origin synced, other copies stale, pending replaced', () => {
    given(...regions, f1, syncAcked({ region: 'r2', files: [{ fileId: 'f1', clock: { r1: 1 } }] }))
      .when(fileUpdated({ region: 'r2', clock: { r1: 1, r2: 1 }, file: { size: 99 } }))
      .then((view) => {
        const f = file(view);
        assert.equal(f.size, 99);
        assert.deepEqual(f.clock, { r1: 1, r2: 1 });
        assert.equal(f.primary, 'r1');
        assert.equal(f.versions, 2);
        assert.equal(location(view, 'r2')?.state, 'synced');
        assert.equal(location(view, 'r1')?.state, 'stale');
        assert.deepEqual([...view.pending.keys()].sort(), ['r1/f1', 'r3/f1']);
        assert.deepEqual(view.pending.get('r3/f1')?.clock, { r1: 1, r2: 1 });
      });
  });

  test('delete: a tombstone keeping the last metadata, propagated as a pending delete', () => {
    given(...regions, f1).when(fileDeleted({ region: 'r1', clock: { r1: 2 } })).then((view) => {
      const f = file(view);
      assert.equal(f.deleted, true);
      assert.equal(f.path, '/data/f1');
      assert.deepEqual(f.clock, { r1: 2 });
      assert.equal(view.pending.get('r2/f1')?.deleted, true);
    });
  });

  test('register again after a delete (AFTER the tombstone) brings the file back', () => {
    given(...regions, f1, fileDeleted({ region: 'r1', clock: { r1: 2 } }))
      .when(fileRegistered({ region: 'r2', clock: { r1: 2, r2: 1 }, file: { size: 5 }, replicas: 1 }))
      .then((view) => {
        const f = file(view);
        assert.equal(f.deleted, false);
        assert.equal(f.size, 5);
        assert.equal(f.primary, 'r2');
        assert.equal(f.replicas, 1);
        assert.deepEqual(f.locations.map((l) => l.regionId), ['r2']);
      });
  });

  test('update of an unknown file is rejected with a reason naming the field', () => {
    const e = fileUpdated({ file: { fileId: 'f9' }, clock: { r1: 1 } });
    given(r1).when(e).then(rejectedOnly(e.id, /^fileId: f9 is not registered/));
  });

  test('delete of an unknown file is rejected with a reason naming the field', () => {
    const e = fileDeleted({ fileId: 'f9', clock: { r1: 1 } });
    given(r1).when(e).then(rejectedOnly(e.id, /^fileId: f9 is not registered/));
  });

  test('a second registration of a live file is rejected', () => {
    const e = fileRegistered({ region: 'r2', clock: { r2: 1 } });
    given(r1, r2, f1).when(e).then(rejectedOnly(e.id, /^file\.fileId: f1 is already registered/));
  });

  test('a change whose clock is BEFORE the file\'s is rejected as stale', () => {
    const e = fileUpdated({ id: 'old-1', clock: { r1: 2 } });
    given(r1, f1, fileUpdated({ clock: { r1: 3 } })).when(e).then(rejectedOnly('old-1', /^clock: .*stale write/));
  });

  test('a change whose clock is EQUAL to the file\'s applies nothing, even under a new id; only its id is remembered', () => {
    given(r1, r2, f1, fileUpdated({ clock: { r1: 2 } }))
      .when(fileUpdated({ id: 'resent-1', clock: { r1: 2, r2: 0 }, file: { size: 1 } }))
      .then((view, o) => {
        const before = file(o.before);
        assert.deepEqual(file(view), { ...before, recentEventIds: [...before.recentEventIds, 'resent-1'] });
        assert.deepEqual(o.touched, [{ collection: 'files', key: 'f1' }]);
        assert.equal(file(view).size, 1024);
      });
  });

  test('a change re-delivered with the same id is a no-op', () => {
    const e = fileUpdated({ clock: { r1: 2 }, file: { size: 2 } });
    given(r1, r2, f1, e, fileUpdated({ clock: { r1: 3 } })).when(e).then(unchanged);
  });

  test('a change from a region that is not registered is rejected', () => {
    const e = fileRegistered({ region: 'r7', clock: { r7: 1 } });
    given(r1).when(e).then(rejectedOnly(e.id, /^region: r7 is not a registered region/));
  });

  test("a change that does not count the origin's own counter is rejected, naming the clock entry", () => {
    const e = fileUpdated({ region: 'r2', clock: { r1: 2 } });
    given(r1, r2, f1).when(e).then(rejectedOnly(e.id, /^clock\.r2: /));
  });

  test('unknown fields sent inside `file` are refused with a reason naming them (rule 10), never copied into the view', () => {
    const extra = { ...fileMeta(), color: 'red' } as ReturnType<typeof fileMeta>;
    const event = fileRegistered({ file: extra });
    given(r1).when(event).then((view) => {
      assert.equal(view.files.has('f1'), false);
      assert.equal(rejectionOf(view, event.id), 'file.color: not a field of file.registered (schema 1)');
    });
  });

  test("a region whose id is 'constructor' (a valid region id) has its updates applied", () => {
    const c = regionRegistered({ region: 'constructor' });
    given(c, fileRegistered({ region: 'constructor' }))
      .when(fileUpdated({ region: 'constructor', clock: { constructor: 2 }, file: { size: 5 } }))
      .then((view) => {
        assert.equal(file(view).size, 5);
        assert.deepEqual(Object.entries(file(view).clock), [['constructor', 2]]);
      });
  });
});

describe('concurrent changes: conflict recorded and settled by last-writer-wins', () => {
  // r1 and r2 both start from {r1: 1}; r1 writes {r1: 2}, r2 writes {r1: 1, r2: 1}: CONCURRENT.
  const base = [...regions, f1] as const;
  const mine = (at: number) => stored(10, fileUpdated({ region: 'r1', clock: { r1: 2 }, at: iso(at), file: { size: 111 } }), { storedAt: iso(5000) });
  const theirs = (at: number, storedAtMs = 6000, region = 'r2') =>
    stored(11, fileUpdated({ region, clock: { r1: 1, [region]: 1 }, at: iso(at), file: { size: 222 } }), { storedAt: iso(storedAtMs) });

  test('both versions are recorded and the later effective time wins; the clock is the merge', () => {
    given(...base, mine(4000)).when(theirs(5500)).then((view, o) => {
      const conflict = view.conflicts.get(o.event?.id ?? '');
      assert.ok(conflict !== undefined);
      assert.equal(conflict.fileId, 'f1');
      assert.equal(conflict.strategy, 'last_writer_wins');
      assert.equal(conflict.status, 'resolved');
      assert.deepEqual(
        { local: [conflict.local.eventId, conflict.local.region, conflict.local.clock, conflict.local.file.size] },
        { local: ['upd-r1-f1-r1.2', 'r1', { r1: 2 }, 111] },
      );
      assert.deepEqual([conflict.remote.region, conflict.remote.clock, conflict.remote.file.size], ['r2', { r1: 1, r2: 1 }, 222]);
      assert.equal(conflict.resolution?.winner, 'remote');
      assert.equal(conflict.detectedSeq, 11);
      assert.equal(file(view).size, 222);
      assert.deepEqual(file(view).clock, { r1: 2, r2: 1 });
    });
  });

  test('the earlier write loses: content stays, the clock still becomes the merge', () => {
    given(...base, mine(4500)).when(theirs(3000)).then((view, o) => {
      assert.equal(view.conflicts.get(o.event?.id ?? '')?.resolution?.winner, 'local');
      assert.equal(file(view).size, 111);
      assert.deepEqual(file(view).clock, { r1: 2, r2: 1 });
    });
  });

  test('effective time is min(at, storedAt): a region whose clock runs ahead does not win', () => {
    // r2 claims to write an hour later, but the stream stored its write at 5.9 s; r1's at 4.5 s was stored at 5 s.
    given(...base, mine(4500)).when(theirs(3_600_000, 5900)).then((view, o) => {
      const conflict = view.conflicts.get(o.event?.id ?? '');
      assert.equal(conflict?.remote.at, iso(5900));
      assert.equal(conflict?.resolution?.winner, 'remote');
    });
    // And the other way round: stored first with a fast clock, it loses to an honest later write.
    given(...base, stored(10, fileUpdated({ region: 'r2', clock: { r1: 1, r2: 1 }, at: iso(3_600_000), file: { size: 222 } }), { storedAt: iso(5000) }))
      .when(stored(11, fileUpdated({ region: 'r1', clock: { r1: 2 }, at: iso(5500), file: { size: 111 } }), { storedAt: iso(6000) }))
      .then((view, o) => {
        const conflict = view.conflicts.get(o.event?.id ?? '');
        assert.equal(conflict?.local.at, iso(5000));
        assert.equal(conflict?.resolution?.winner, 'remote');
        assert.equal(file(view).size, 111);
      });
  });

  test('a tie on effective time is broken by region id (the greater wins), then by event id', () => {
    given(...base, mine(4000)).when(theirs(4000)).then((view) => assert.equal(file(view).size, 222)); // r2 > r1
    given(...regions, regionRegistered({ region: 'r0' }), f1, mine(4000))
      .when(theirs(4000, 6000, 'r0'))
      .then((view) => assert.equal(file(view).size, 111)); // r0 < r1
    // Same region and time: the greater event id wins.
    const a = fileUpdated({ id: 'evt-a', region: 'r1', clock: { r1: 2 }, at: iso(4000), file: { size: 1 } });
    const b = fileUpdated({ id: 'evt-b', region: 'r1', clock: { r1: 1, r2: 1 }, at: iso(4000), file: { size: 2 } });
    given(...base, a).when(b).then((view) => assert.equal(file(view).size, 2));
    given(...base, b).when(a).then((view) => assert.equal(file(view).size, 2));
  });

  test('a re-delivered conflicting change is a no-op', () => {
    const t = theirs(5500);
    given(...base, mine(4000), t).when({ ...t, seq: 19, storedAt: iso(19_000) }).then(unchanged);
  });

  test('after the conflict every region that does not hold the merged version is sent it, the winner\'s origin included', () => {
    // r2 holds {r1: 1, r2: 1}; the file is now at {r1: 2, r2: 1}, which no region holds yet.
    given(...base, mine(4000)).when(theirs(5500)).then((view) => {
      const merged = { r1: 2, r2: 1 };
      for (const region of ['r1', 'r2', 'r3']) {
        assert.deepEqual(view.pending.get(`${region}/f1`)?.clock, merged, `pending ${region}/f1`);
      }
      assert.notEqual(location(view, 'r2')?.state, 'synced', 'r2 does not hold {r1: 2, r2: 1}');
    });
  });
});

describe('pending changes and sync acks', () => {
  test('an ack of the current version marks the copy synced and removes the pending entry', () => {
    const ack = syncAcked({ region: 'r2', files: [{ fileId: 'f1', clock: { r1: 1 } }], at: iso(2500) });
    given(...regions, f1).when(ack).then((view) => {
      assert.equal(view.pending.has('r2/f1'), false);
      assert.equal(view.pending.has('r3/f1'), true);
      assert.deepEqual(location(view, 'r2'), { regionId: 'r2', state: 'synced', lastSyncAt: iso(2500), clock: { r1: 1 } });
    });
  });

  test('an ack of an older version does not mark the copy synced and keeps the pending entry', () => {
    given(...regions, f1, fileUpdated({ clock: { r1: 2 } }))
      .when(syncAcked({ region: 'r2', files: [{ fileId: 'f1', clock: { r1: 1 } }] }))
      .then((view) => {
        assert.notEqual(location(view, 'r2')?.state, 'synced');
        assert.deepEqual(view.pending.get('r2/f1')?.clock, { r1: 2 });
      });
  });

  test('one pending entry per region and file: the newest version replaces the older', () => {
    given(...regions, f1).when(fileUpdated({ clock: { r1: 2 } })).then((view) => {
      assert.equal(view.pending.size, 2);
      assert.deepEqual(view.pending.get('r2/f1')?.clock, { r1: 2 });
    });
  });

  test('an ack naming an unknown file or a version never seen is applied in part and rejected with the field', () => {
    const ack = syncAcked({
      region: 'r2',
      files: [
        { fileId: 'f1', clock: { r1: 1 } },
        { fileId: 'f9', clock: { r1: 1 } },
        { fileId: 'f1', clock: { r1: 5 } },
      ],
    });
    given(...regions, f1).when(ack).then((view) => {
      assert.equal(location(view, 'r2')?.state, 'synced');
      assert.match(rejectionOf(view, ack.id) ?? '', /^partially applied: files\.1\.fileId: f9 is not registered; files\.2\.clock: /);
    });
  });

  test('an ack from a region that is not registered is rejected', () => {
    const ack = syncAcked({ region: 'r9' });
    given(r1, f1).when(ack).then(rejectedOnly(ack.id, /^region: r9 is not a registered region/));
  });

  test('deregistering a region drops its pending entries, and only its', () => {
    given(...regions, f1, fileRegistered({ file: { fileId: 'f2' } }))
      .when(regionDeregistered({ region: 'r2', at: iso(10_000) }))
      .then((view) => {
        assert.deepEqual([...view.pending.keys()].sort(), ['r3/f1', 'r3/f2']);
        assert.equal(view.regions.get('r2')?.active, false);
      });
  });

  test('an inactive region is not sent new changes', () => {
    given(...regions, f1, regionDeregistered({ region: 'r3', at: iso(10_000) }))
      .when(fileUpdated({ clock: { r1: 2 } }))
      .then((view) => assert.deepEqual([...view.pending.keys()], ['r2/f1']));
  });
});

describe('regions', () => {
  test('registration: active, healthy, joined and last seen at its effective time', () => {
    given().when(regionRegistered({ region: 'r1', at: iso(500) })).then((view) => {
      const r = view.regions.get('r1');
      assert.equal(r?.active, true);
      assert.equal(r?.joinedAt, iso(500));
      assert.equal(r?.lastSeenAt, iso(500));
      assert.deepEqual(r?.status, { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0 });
      assert.equal(r?.endpoint, 'r1.jzse.example:7443');
    });
  });

  test('a heartbeat updates the status and last-seen time', () => {
    const status = { state: 'degraded' as const, syncLag: 12, storageUsed: 3000, loadLevel: 0.75 };
    given(r1).when(regionHeartbeat({ at: iso(1500), status })).then((view) => {
      assert.deepEqual(view.regions.get('r1')?.status, status);
      assert.equal(view.regions.get('r1')?.lastSeenAt, iso(1500));
    });
  });

  test('a heartbeat older than the last sign of life is rejected; one from an unknown region too', () => {
    const old = regionHeartbeat({ at: iso(1000) });
    given(r1, regionHeartbeat({ at: iso(2000) })).when(old).then(rejectedOnly(old.id, /^at: .* is older than the region's last sign of life/));
    const stranger = regionHeartbeat({ region: 'r5' });
    given(r1).when(stranger).then(rejectedOnly(stranger.id, /^region: r5 is not a registered region/));
  });

  test('deregistration, then a newer registration brings the region back; an older one is refused', () => {
    const leave = regionDeregistered({ at: iso(500) });
    given(regionRegistered({ at: iso(100) }), leave)
      .when(regionRegistered({ id: 'join-again', at: iso(800) }))
      .then((view) => {
        assert.equal(view.regions.get('r1')?.active, true);
        assert.equal(view.regions.get('r1')?.joinedAt, iso(800));
      });
    const stale = regionRegistered({ id: 'join-old', at: iso(300) });
    given(regionRegistered({ at: iso(100) }), leave).when(stale).then(rejectedOnly('join-old', /^at: older than the region's latest membership change/));
  });

  test("a deregistered region's changes are rejected", () => {
    const e = fileUpdated({ clock: { r1: 2 } });
    given(r1, r2, f1, regionDeregistered({ at: iso(10_000) })).when(e).then(rejectedOnly(e.id, /^region: r1 is not a registered region/));
  });
});

describe('policies and operator resolutions', () => {
  test('policy.set records the policy; an older one for the same pattern is refused; a newer one replaces it', () => {
    given().when(policySet({ id: 'p1', at: iso(1000), sync: 'eager' })).then((view) => {
      assert.deepEqual(view.policies.get('/data/*'), { pattern: '/data/*', sync: 'eager', conflict: 'last_writer_wins', eventId: 'p1', at: iso(1000), operator: 'alice', recentEventIds: ['p1'] });
    });
    given(policySet({ id: 'p2', at: iso(2000) })).when(policySet({ id: 'p1', at: iso(1000) })).then(rejectedOnly('p1', /^at: older than the pattern's latest policy p2/));
    given(policySet({ id: 'p1', at: iso(1000) }))
      .when(policySet({ id: 'p2', at: iso(2000), sync: 'on_demand', conflict: undefined }))
      .then((view) => {
        assert.equal(view.policies.get('/data/*')?.sync, 'on_demand');
        assert.equal(view.policies.get('/data/*')?.conflict, null);
      });
  });

  test('resolving an unknown or already settled conflict is rejected', () => {
    const unknown = conflictResolved({ conflictId: 'nope' });
    given().when(unknown).then(rejectedOnly(unknown.id, /^conflictId: no conflict nope/));
    const c = fileUpdated({ region: 'r2', clock: { r1: 1, r2: 1 }, at: iso(9000) });
    const late = conflictResolved({ conflictId: c.id });
    given(r1, r2, f1, fileUpdated({ clock: { r1: 2 } }), c).when(late).then(rejectedOnly(late.id, /is resolved \(by last_writer_wins\)/));
  });
});

describe('undecodable and misrouted messages', () => {
  test('garbage bytes are rejected under their sequence with the decode error', () => {
    given(r1).when(stored(2, new Uint8Array([0x7b, 0x00, 0xff]))).then((view, o) => {
      assert.equal(view.rejected.get('seq-2')?.reason, 'event is not valid UTF-8');
      assert.deepEqual(o.touched, [{ collection: 'rejected', key: 'seq-2' }]);
      assert.equal(o.event, null);
    });
    given(r1).when(stored(2, new TextEncoder().encode('{"schema":1,'))).then((view) => {
      assert.match(view.rejected.get('seq-2')?.reason ?? '', /^event is not valid JSON/);
    });
  });

  test('half-valid JSON is rejected under its id, with the field named', () => {
    const bad = { ...fileUpdated({ id: 'bad-1' }), file: { ...fileMeta(), size: -1 } };
    given(r1, f1).when(stored(3, encode(bad))).then((view) => {
      const entry = view.rejected.get('bad-1');
      assert.equal(entry?.reason, 'file.size: expected non-negative integer, got -1');
      assert.equal(entry?.subject, 'jzse.changes.r1');
      assert.equal(file(view).size, 1024);
    });
  });

  test('a valid event on the wrong subject is rejected and not applied', () => {
    const e = fileUpdated({ clock: { r1: 2 }, file: { size: 7 } });
    given(r1, f1).when(stored(3, e, { subject: 'jzse.sync.acks.r1' })).then((view) => {
      assert.match(rejectionOf(view, e.id) ?? '', /^subject: file\.updated .* must be published on jzse\.changes\.r1 or jzse\.api\.changes\.r1, got jzse\.sync\.acks\.r1/);
      assert.equal(file(view).size, 1024);
    });
  });

  test('a message at or below the view\'s sequence is ignored', () => {
    given(r1, f1).when(stored(2, fileUpdated({ clock: { r1: 2 } }))).then(unchanged);
  });
});

describe('duplicates past the JetStream window are no-ops (NOTES: the fold must be idempotent on event ids)', () => {
  test('a duplicate of an applied change, after its region deregistered, changes nothing', () => {
    given(r1, r2, f1, regionDeregistered({ region: 'r1', at: iso(10_000) })).when(f1).then(unchanged);
  });

  test('a duplicate of an older policy, after a newer one, changes nothing', () => {
    const p1 = policySet({ id: 'p1', at: iso(1000) });
    given(p1, policySet({ id: 'p2', at: iso(2000) })).when(p1).then(unchanged);
  });

  test('a duplicate of a policy whose time was capped by storedAt changes nothing', () => {
    const p1 = policySet({ id: 'p1', at: iso(3_600_000) }); // operator clock an hour ahead
    given(p1).when(p1).then(unchanged);
  });

  test('a duplicate of an EQUAL (no-op) change, after the file moved on, is not reported as a stale write', () => {
    const resent = fileUpdated({ id: 'resent-1', clock: { r1: 2 } });
    given(r1, f1, fileUpdated({ clock: { r1: 2 } }), resent, fileUpdated({ clock: { r1: 3 } })).when(resent).then(unchanged);
  });

  test('an event id is burned once rejected: a change refused for its unregistered region stays refused', () => {
    const early = fileRegistered({ region: 'r3', clock: { r3: 1 } });
    given(early, r3).when(early).then(unchanged);
  });

  test('an event id is burned once rejected: an update refused for its unknown file stays refused', () => {
    const beforeRegister = fileUpdated({ clock: { r1: 2 } });
    given(r1, beforeRegister, f1).when(beforeRegister).then(unchanged);
  });

  test('an event id is burned once rejected: an ack refused for its unregistered region stays refused', () => {
    const ack = syncAcked({ region: 'r2' });
    given(r1, f1, ack, r2).when(ack).then(unchanged);
  });
});
