// The dispatcher's index (src/sync/candidates.ts) against the pure reference: with an unbounded
// budget, deciding over the keys the index offers equals deciding over every pending entry, at
// every tick of a random history (changes, demands, acks, requests, regions going offline and back,
// policy changes, time passing past flush intervals and retry times).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stepStored as step } from '../support/events.js';
import { decideSync, type SyncSettings } from '../../projections/sync.js';
import { emptyView, type View } from '../../projections/view.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { SyncCandidates } from '../../src/sync/candidates.js';
import { iso, fileRegistered, fileUpdated, policySet, regionHealth, regionHeartbeat, regionRegistered, stored, syncAcked, syncDemanded, syncRequested } from '../support/events.js';
import { prng } from '../support/workload.js';

const REGIONS = ['r1', 'r2', 'r3'];
const PATHS = ['/hot/', '/cold/', '/arch/'];

const run = (seed: number, s: SyncSettings, budget = Number.POSITIVE_INFINITY) => {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let view: View = emptyView();
  let now = 0;
  let seq = 0;
  const index = new SyncCandidates(s);
  const apply = (event: CoordinatorEvent): number => {
    const r = step(view, stored(++seq, event, { storedAt: iso(now) }));
    view = r.view;
    index.noteCommitted(view, r.touched);
    return seq;
  };
  const clocks = new Map<string, Record<string, number>>();
  const change = (): void => {
    const fileId = `f${Math.floor(rnd() * 40)}`;
    const region = pick(REGIONS);
    const old = clocks.get(fileId);
    const clock = { ...old, [region]: (old?.[region] ?? 0) + 1 };
    clocks.set(fileId, clock);
    const file = { fileId, path: `${PATHS[Number(fileId.slice(1)) % 3]!}${fileId}` };
    apply(old === undefined ? fileRegistered({ region, clock, file, at: iso(now) }) : fileUpdated({ region, clock, file, at: iso(now), id: `u-${seq}` }));
  };
  for (const region of REGIONS) apply(regionRegistered({ region }));
  apply(policySet({ pattern: '/hot/**', sync: 'eager', id: 'p-hot' }));
  apply(policySet({ pattern: '/arch/**', sync: 'on_demand', id: 'p-arch' }));
  let ticks = 0;
  let sent = 0;
  for (let i = 0; i < 400; i++) {
    now += Math.floor(rnd() * 300);
    const r = rnd();
    if (r < 0.5) change();
    else if (r < 0.55) apply(syncDemanded({ region: pick(REGIONS), fileIds: [`f${Math.floor(rnd() * 40)}`], id: `d-${seq}`, at: iso(now) }));
    else if (r < 0.62) {
      const p = pick([...view.pending.values()]);
      if (p !== undefined) apply(syncAcked({ region: p.regionId, files: [{ fileId: p.fileId, clock: p.clock }], id: `a-${seq}`, at: iso(now) }));
    } else if (r < 0.65) apply(regionHealth({ region: 'r3', state: 'offline', id: `h-${seq}`, at: iso(now), lastSeenAt: iso(now) }));
    else if (r < 0.68) apply(regionHeartbeat({ region: 'r3', id: `hb-${seq}`, at: iso(now) }));
    else if (r < 0.7) apply(policySet({ pattern: '/cold/**', sync: pick(['lazy', 'eager', 'on_demand'] as const), id: `p-cold-${seq}`, at: iso(now) }));
    else {
      ticks++;
      index.start(view);
      index.scan(view, Number.POSITIVE_INFINITY);
      const at = iso(now);
      const taken = index.take(T0 + now, budget);
      const viaIndex = decideSync(view, at, s, taken);
      assert.ok(taken.length <= budget, `at most the budget is offered (${taken.length})`);
      if (budget === Number.POSITIVE_INFINITY) assert.deepEqual(viaIndex, decideSync(view, at, s), `seed ${seed}, tick ${ticks} at +${now} ms`);
      const left = new Set(taken);
      for (const d of viaIndex) {
        const requested = apply(syncRequested({ region: d.region, id: `req-${seq}`, at, files: d.items.map((x) => ({ fileId: x.fileId, eventId: x.eventId, attempt: x.attempt })) }));
        // The request's own batch is committed already: released at once.
        index.sent(view, requested, d.region, d.items);
        for (const x of d.items) left.delete(`${d.region}/${x.fileId}`);
        sent += d.items.length;
      }
      index.restore(view, left);
    }
  }
  return { ticks, sent, view, index, now };
};

const T0 = Date.parse(iso(0));
const settings: SyncSettings = { batchSize: 3, flushIntervalMs: 1000, ackTimeoutMs: 2000, maxBackoffMs: 8000 };

describe('sync candidates index', () => {
  test('offers exactly what the pure decision over every pending entry would send', () => {
    let sent = 0;
    for (let seed = 1; seed <= 40; seed++) sent += run(seed, settings).sent;
    assert.ok(sent > 1000, `the histories exercise requests (${sent} items sent)`);
  });

  test('with a budget, every tick sends at most the budget and nothing is lost: an unbounded tick afterwards agrees with the reference', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { view, index, now } = run(seed, settings, 4);
      index.scan(view, Number.POSITIVE_INFINITY);
      const late = T0 + now + 60_000;
      const taken = index.take(late, Number.POSITIVE_INFINITY);
      assert.deepEqual(decideSync(view, new Date(late).toISOString(), settings, taken), decideSync(view, new Date(late).toISOString(), settings), `seed ${seed}`);
    }
  });

  test('lazy entries go in full batches, and the rest only once its oldest has waited the flush interval', () => {
    let view: View = emptyView();
    let seq = 0;
    const apply = (e: CoordinatorEvent, at: number) => { view = step(view, stored(++seq, e, { storedAt: iso(at) })).view; };
    for (const region of ['r1', 'r2']) apply(regionRegistered({ region }), 0);
    for (let i = 0; i < 7; i++) apply(fileRegistered({ region: 'r1', file: { fileId: `f${i}`, path: `/cold/f${i}` }, at: iso(i * 100) }), i * 100);
    const index = new SyncCandidates(settings);
    index.start(view);
    index.scan(view, Number.POSITIVE_INFINITY);
    const at600 = index.take(T0 + 600, 100);
    assert.deepEqual(decideSync(view, iso(600), settings, at600).map((d) => d.items.map((x) => x.fileId)), [['f0', 'f1', 'f2'], ['f3', 'f4', 'f5']]);
    assert.deepEqual(decideSync(view, iso(600), settings).map((d) => d.items.length), [3, 3], 'the reference agrees: f6 waits');
    assert.deepEqual(index.take(T0 + 1599, 100), [], 'f6 (since +600 ms) has not waited 1 s');
    assert.deepEqual(index.take(T0 + 1600, 100), ['r2/f6']);
  });
});
