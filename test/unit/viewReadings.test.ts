// src/observability/viewReadings.ts: what the view gauges say, from a folded view. Registered
// regions only (the label is bounded by them), the state readers see (a worse verdict wins over the
// region's own report), every conflict status × strategy pair (zeros included), one reading per view.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cachedReadings, CONFLICT_STATUSES, CONFLICT_STRATEGIES, viewReadings } from '../../src/observability/viewReadings.js';
import { fileRegistered, fileUpdated, foldEvents, iso, regionDeregistered, regionHealth, regionHeartbeat, regionRegistered } from '../support/events.js';

// Stored one second apart (seq n at n s): each heartbeat's own time is before its store time, so it counts.
const regions = foldEvents(
  regionRegistered({ region: 'r1' }),
  regionRegistered({ region: 'r2' }),
  regionRegistered({ region: 'r3' }),
  regionHeartbeat({ region: 'r1', at: iso(3500), status: { state: 'healthy', syncLag: 0, storageUsed: 1234, loadLevel: 0.4 } }),
  regionHeartbeat({ region: 'r2', at: iso(4500), status: { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0.1 } }),
  regionHealth({ region: 'r2', state: 'degraded', lastSeenAt: iso(4500) }),
  regionDeregistered({ region: 'r3' }),
);

describe('view readings', () => {
  test('registered regions with the state readers see, their last heartbeat and report; a deregistered one is gone', () => {
    assert.deepEqual(viewReadings(regions).regions, [
      { region: 'r1', state: 'healthy', lastSeen: Date.parse(iso(3500)) / 1000, storageUsedBytes: 1234, loadRatio: 0.4 },
      { region: 'r2', state: 'degraded', lastSeen: Date.parse(iso(4500)) / 1000, storageUsedBytes: 0, loadRatio: 0.1 },
    ]);
  });

  test('conflicts by status and strategy, every pair present', () => {
    // r1 and r2 write the same version's successors concurrently: the default strategy resolves it.
    const view = foldEvents(
      regionRegistered({ region: 'r1' }), regionRegistered({ region: 'r2' }),
      fileRegistered({ region: 'r1', file: { fileId: 'f1' }, clock: { r1: 1 } }),
      fileUpdated({ region: 'r1', file: { fileId: 'f1', checksum: 'a' }, clock: { r1: 2 } }),
      fileUpdated({ region: 'r2', file: { fileId: 'f1', checksum: 'b' }, clock: { r1: 1, r2: 1 } }),
    );
    const { conflicts } = viewReadings(view);
    assert.equal(conflicts.length, CONFLICT_STATUSES.length * CONFLICT_STRATEGIES.length);
    assert.equal(view.conflicts.size, 1, 'the workload made one conflict');
    const [only] = [...view.conflicts.values()];
    for (const c of conflicts) assert.equal(c.count, c.status === only?.status && c.strategy === only.strategy ? 1 : 0, `${c.status}/${c.strategy}`);
    assert.deepEqual(viewReadings(regions).conflicts.map((c) => c.count), conflicts.map(() => 0));
  });

  test('one reading per view: a scrape reading several gauges folds nothing twice', () => {
    const read = cachedReadings();
    const first = read(regions);
    assert.equal(read(regions), first);
    assert.notEqual(read(foldEvents(regionRegistered({ region: 'r9' }))), first);
  });
});
