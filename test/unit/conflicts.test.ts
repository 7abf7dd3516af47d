// Conflict strategies by path policy: last-writer-wins, merge, manual (with operator resolution)
// and fork; policy matching; convergence of LWW and merge under every interleaving.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { foldStored as fold } from '../support/events.js';
import { forkFileId, forkPath, MAX_OPEN_CONFLICTS } from '../../projections/conflicts.js';
import { patternMatches, policyFor } from '../../projections/policies.js';
import { emptyView, type View } from '../../projections/view.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import {
  conflictResolved, fileMeta, fileRegistered, fileUpdated, given, iso, policySet, regionRegistered, stored,
} from '../support/events.js';

const regions = ['r1', 'r2', 'r3', 'r4'].map((region) => regionRegistered({ region }));
const f1 = fileRegistered({ file: { attributes: { owner: 'ann' } } });
const policy = (conflict: 'merge' | 'manual' | 'fork' | 'last_writer_wins', pattern = '/data/*') =>
  policySet({ id: `p-${conflict}-${pattern.length}`, pattern, conflict, sync: undefined });
const local = fileUpdated({ id: 'local', clock: { r1: 2 }, at: iso(1000), file: { size: 10, checksum: 'L', attributes: { owner: 'ann', color: 'red' } } });
const remote = fileUpdated({ id: 'remote', region: 'r2', clock: { r1: 1, r2: 1 }, at: iso(2000), file: { size: 20, checksum: 'R', attributes: { owner: 'bob', size: 'big' } } });
const file = (view: View, id = 'f1') => {
  const f = view.files.get(id);
  assert.ok(f, `file ${id}`);
  return f;
};

describe('conflict strategies', () => {
  test('merge: attributes merged key by key, later writer wins a shared key and the differing content', () => {
    given(...regions, f1, policy('merge'), local).when(remote).then((view) => {
      const f = file(view);
      assert.deepEqual(f.attributes, { owner: 'bob', color: 'red', size: 'big' });
      assert.equal(f.checksum, 'R');
      assert.deepEqual(f.clock, { r1: 2, r2: 1 });
      const c = view.conflicts.get('remote');
      assert.equal(c?.strategy, 'merge');
      assert.equal(c?.resolution?.winner, 'merged');
      assert.match(c?.note ?? '', /contents differ/);
      assert.equal(view.pending.has('r1/f1') && view.pending.has('r2/f1'), true, 'both writers must take the merged version');
    });
  });

  test('manual: the conflict stays open with both versions until an operator resolves it', () => {
    const open = given(...regions, f1, policy('manual'), local).when(remote).then((view, o) => {
      assert.deepEqual(file(view).checksum, 'L', 'the file keeps its content');
      assert.deepEqual(file(view).openConflicts, ['remote']);
      assert.equal(view.conflicts.get('remote')?.status, 'open');
      assert.equal(view.conflicts.get('remote')?.remote.file.checksum, 'R');
      assert.deepEqual(file(view).clock, file(o.before).clock);
    }).view;
    const resolve = conflictResolved({ id: 'op-1', conflictId: 'remote', choice: { keep: 'remote' } });
    const resolved = fold(open, [stored(open.seq + 1, resolve)]);
    assert.equal(file(resolved).checksum, 'R');
    assert.deepEqual(file(resolved).clock, { r1: 2, r2: 1 });
    assert.deepEqual(file(resolved).openConflicts, []);
    assert.deepEqual(resolved.conflicts.get('remote')?.resolution, { winner: 'remote', by: 'alice', at: resolved.conflicts.get('remote')?.resolution?.at, eventId: 'op-1' });
    const again = fold(resolved, [stored(resolved.seq + 1, conflictResolved({ id: 'op-2', conflictId: 'remote', choice: { keep: 'local' } }))]);
    assert.match(again.rejected.get('op-2')?.reason ?? '', /is resolved \(by alice\)/);

    const moved = fold(open, [stored(open.seq + 1, fileUpdated({ id: 'later', clock: { r1: 3 } })), stored(open.seq + 2, resolve)]);
    assert.match(moved.rejected.get(resolve.id)?.reason ?? '', /^choice\.keep: f1 changed since the conflict/);
    const merged = fold(moved, [stored(moved.seq + 1, conflictResolved({ id: 'op-3', conflictId: 'remote', choice: { merged: fileMeta({ size: 30, checksum: 'M' }) } }))]);
    assert.equal(file(merged).checksum, 'M');
    assert.deepEqual(file(merged).clock, { r1: 3, r2: 1 });
    const wrong = fold(moved, [stored(moved.seq + 1, conflictResolved({ id: 'op-4', conflictId: 'remote', choice: { merged: fileMeta({ fileId: 'f9' }) } }))]);
    assert.match(wrong.rejected.get('op-4')?.reason ?? '', /^choice\.merged\.fileId: expected f1, got f9/);
  });

  test(`manual: at most ${MAX_OPEN_CONFLICTS} open conflicts per file, then last-writer-wins (and the record says so)`, () => {
    const writes: CoordinatorEvent[] = Array.from({ length: MAX_OPEN_CONFLICTS + 1 }, (_, i) =>
      fileUpdated({ id: `w${i}`, region: 'r2', clock: { r1: 1, r2: i + 1 }, at: iso(5000 + i) }));
    const view = fold(emptyView(), [...regions, f1, policy('manual'), local, ...writes].map((e, i) => stored(i + 1, e)));
    assert.equal(file(view).openConflicts.length, MAX_OPEN_CONFLICTS);
    const last = view.conflicts.get(`w${MAX_OPEN_CONFLICTS}`);
    assert.equal(last?.strategy, 'last_writer_wins');
    assert.match(last?.note ?? '', /already open on this file/);
  });

  test('fork: the winner stays, the loser becomes a new file with a sync-conflict name at its region', () => {
    given(...regions, f1, policy('fork'), local).when(remote).then((view) => {
      assert.equal(file(view).checksum, 'R', 'the later writer keeps the name');
      const forkId = forkFileId('f1', 'local');
      const copy = file(view, forkId);
      assert.equal(copy.checksum, 'L');
      assert.equal(copy.path, '/data/f1.sync-conflict-20260101-000002-r1', 'named for when the conflict was detected');
      assert.deepEqual(copy.locations.map((l) => [l.regionId, l.state]), [['r1', 'synced']]);
      assert.equal(view.conflicts.get('remote')?.fork, forkId);
    });
    assert.equal(forkPath('/a/report.pdf', '2026-11-25T10:15:00.000Z', 'r2'), '/a/report.sync-conflict-20261125-101500-r2.pdf');
    assert.equal(forkPath('/a.b/noext', '2026-11-25T10:15:00.000Z', 'r2'), '/a.b/noext.sync-conflict-20261125-101500-r2');
  });

  test('policies: prefixes and globs, the most specific wins, defaults otherwise', () => {
    assert.equal(patternMatches('/data', '/data/x/y'), true);
    assert.equal(patternMatches('/data', '/database'), false);
    assert.equal(patternMatches('/data/*.pdf', '/data/a.pdf'), true);
    assert.equal(patternMatches('/data/*.pdf', '/data/sub/a.pdf'), false);
    assert.equal(patternMatches('/data/**.pdf', '/data/sub/a.pdf'), true);
    const view = fold(emptyView(), [policy('merge', '/data'), policySet({ id: 'eager', pattern: '/data/hot/**', sync: 'eager', conflict: undefined }), policy('fork', '/data/hot/*.doc')].map((e, i) => stored(i + 1, e)));
    assert.deepEqual(policyFor(view, '/data/hot/a.doc'), { sync: 'eager', conflict: 'fork' });
    assert.deepEqual(policyFor(view, '/data/hot/a.txt'), { sync: 'eager', conflict: 'merge' });
    assert.deepEqual(policyFor(view, '/other'), { sync: 'lazy', conflict: 'last_writer_wins' });
  });
});

describe('convergence', () => {
  // Concurrent writes from four regions to one file, stored long after they happened, in every order.
  const concurrent = fc.uniqueArray(fc.constantFrom('r1', 'r2', 'r3', 'r4'), { minLength: 2, maxLength: 4 }).chain((writers) =>
    fc.tuple(
      fc.constant(writers),
      fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: writers.length, maxLength: writers.length }),
      fc.array(fc.subarray(['a', 'b', 'c']), { minLength: writers.length, maxLength: writers.length }),
    ));

  const contentOf = (view: View) => {
    const f = file(view);
    return { attributes: f.attributes, checksum: f.checksum, size: f.size, clock: f.clock, deleted: f.deleted, pending: [...view.pending.values()].map((p) => [p.regionId, p.clock]).sort() };
  };

  for (const strategy of ['last_writer_wins', 'merge'] as const) {
    test(`${strategy}: every interleaving of the same concurrent writes gives the same file`, () => {
      fc.assert(
        fc.property(concurrent, fc.nat(), ([writers, times, keys], salt) => {
          const writes = writers.map((region, i) => fileUpdated({
            id: `w-${region}`, region, clock: { r1: 1, [region]: region === 'r1' ? 2 : 1 }, at: iso(10_000 + (times[i] ?? 0)),
            file: { checksum: `c-${region}`, size: i, attributes: Object.fromEntries((keys[i] ?? []).map((k) => [k, `${k}-${region}`])) },
          }));
          const order = (xs: CoordinatorEvent[], seed: number) => [...xs].sort((a, b) => ((a.id.charCodeAt(2) * 31 + seed) % 7) - ((b.id.charCodeAt(2) * 31 + seed) % 7) || (a.id < b.id ? -1 : 1));
          const run = (xs: CoordinatorEvent[]) => fold(emptyView(), [...regions, f1, policy(strategy, '/data'), ...xs].map((e, i) => stored(i + 1, e, { storedAt: iso(100_000 + i * 1000) })));
          assert.deepEqual(contentOf(run(order(writes, salt))), contentOf(run(writes)));
          assert.deepEqual(contentOf(run([...writes].reverse())), contentOf(run(writes)));
        }),
        { numRuns: 200 },
      );
    });
  }
});
