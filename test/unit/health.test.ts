import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideHealth, effectiveRegionState, verdictAt } from '../../projections/health.js';
import { emptyView } from '../../projections/view.js';
import { foldStored as fold } from '../support/events.js';
import { stored, regionRegistered, regionHeartbeat } from '../support/events.js';

const policy = { heartbeatIntervalMs: 1000, degradedAfterMissed: 3, offlineAfterMs: 10_000 };
import type { CoordinatorEvent } from '../../streams/events.js';
/** Stored when it happened, so effective times are the events' own. */
const now = (seq: number, e: CoordinatorEvent) => stored(seq, e, { storedAt: e.at });
const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();

describe('region health decisions', () => {
  test('verdicts follow the silence: healthy, degraded after the missed intervals, offline after the timeout', () => {
    assert.equal(verdictAt(at(0), at(3000), policy), 'healthy');
    assert.equal(verdictAt(at(0), at(3001), policy), 'degraded');
    assert.equal(verdictAt(at(0), at(10_001), policy), 'offline');
  });

  test('decideHealth emits a verdict only on a change, with an id derived from what it judged', () => {
    const view = fold(emptyView(), [now(1, regionRegistered({ region: 'r1', at: at(0) }))]);
    const seenAt = view.regions.get('r1')?.lastSeenAt ?? '';
    assert.deepEqual(decideHealth(view, at(2000), policy, 'c1'), []);
    const [degraded] = decideHealth(view, at(5000), policy, 'c1');
    assert.ok(degraded);
    assert.equal(degraded.state, 'degraded');
    assert.equal(degraded.id, `health:r1:degraded:${Date.parse(seenAt)}`);
    assert.deepEqual(decideHealth(view, at(5000), policy, 'c2').map((e) => e.id), [degraded.id], 'another leader decides the same id');

    const judged = fold(view, [now(2, degraded)]);
    assert.equal(judged.regions.get('r1')?.health?.state, 'degraded');
    assert.deepEqual(decideHealth(judged, at(6000), policy, 'c1'), [], 'no repeat while still degraded');
    const offline = decideHealth(judged, at(20_000), policy, 'c1');
    assert.deepEqual(offline.map((e) => e.state), ['offline']);
    const gone = fold(judged, [now(3, offline[0]!)]);
    const region = gone.regions.get('r1');
    assert.ok(region);
    assert.equal(effectiveRegionState(region), 'offline');

    // Heard from again: the region reports healthy, but readers see offline until the leader says so.
    const back = fold(gone, [now(4, regionHeartbeat({ region: 'r1', at: at(21_000), id: 'hb-back' }))]);
    assert.equal(effectiveRegionState(back.regions.get('r1')!), 'offline');
    const healthy = decideHealth(back, at(21_500), policy, 'c1');
    assert.deepEqual(healthy.map((e) => e.state), ['healthy']);
    const recovered = fold(back, [now(5, healthy[0]!)]);
    assert.equal(effectiveRegionState(recovered.regions.get('r1')!), 'healthy');
  });

  test('a verdict overtaken by a newer heartbeat is rejected, not applied', () => {
    const view = fold(emptyView(), [now(1, regionRegistered({ region: 'r1', at: at(0) }))]);
    const [late] = decideHealth(view, at(20_000), policy, 'c1');
    assert.ok(late);
    const next = fold(view, [now(2, regionHeartbeat({ region: 'r1', at: at(19_000), id: 'hb-1' })), now(3, late)]);
    assert.equal(next.regions.get('r1')?.health, null);
    assert.match(next.rejected.get(late.id)?.reason ?? '', /^lastSeenAt: the verdict judged/);
  });
});
