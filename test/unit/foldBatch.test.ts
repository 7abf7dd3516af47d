// The runner cut once per batch (transient maps all along) against the reference, a cut after every
// message: the same view, the same iteration order of every collection, the same touched records and
// verdicts, also when a reducer throws halfway through a batch after it has already edited the maps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEntry } from '../../projections/entry.js';
import { fold as foldEntries, Runner } from '../../projections/runner.js';
import type { Touched } from '../../projections/draft.js';
import { COLLECTIONS, emptyView, type FileRecord, type StoredEvent, type View } from '../../projections/view.js';
import { scenarioArb } from '../support/arbitraries.js';
import { fileRegistered, fileUpdated, foldStored as fold, regionRegistered, stepStored as step, storedLog, syncRequested } from '../support/events.js';

type Folded = { readonly seq: number; readonly event: unknown; readonly rejected: boolean };

/** One runner over all of `msgs`, cut once at the end. */
const foldTouched = (view: View, msgs: readonly StoredEvent[]) => {
  const runner = new Runner(view);
  const events: Folded[] = [];
  for (const m of msgs) {
    const v = runner.apply(decodeEntry(m));
    if (v !== null) events.push({ seq: v.seq, event: v.event, rejected: v.rejection !== null });
  }
  return { ...runner.cut(), events };
};

fc.configureGlobal({ includeErrorInReport: true });

type Reference = { readonly view: View; readonly touched: Touched[]; readonly events: Folded[] };

const stepped = (view: View, msgs: readonly StoredEvent[]): Reference => {
  let current = view;
  const touched = new Map<string, Touched>();
  const events: Folded[] = [];
  for (const msg of msgs) {
    const s = step(current, msg);
    if (msg.seq > current.seq) {
      for (const t of s.touched) if (!touched.has(`${t.collection}/${t.key}`)) touched.set(`${t.collection}/${t.key}`, t);
      events.push({ seq: msg.seq, event: s.event, rejected: s.verdict?.rejection != null });
    }
    current = s.view;
  }
  return { view: current, touched: [...touched.values()], events };
};

/** Records and their iteration order: what etcd gets, and what any code iterating the maps sees. */
const shape = (v: View) => ({ seq: v.seq, ...Object.fromEntries(COLLECTIONS.map((c) => [c, [...v[c].entries()]])) });

const sameAsStepping = (view: View, msgs: readonly StoredEvent[]): void => {
  const expected = stepped(view, msgs);
  const batch = foldTouched(view, msgs);
  assert.deepStrictEqual(shape(batch.view), shape(expected.view));
  assert.deepStrictEqual(batch.touched, expected.touched);
  assert.deepStrictEqual(batch.events, expected.events);
  assert.deepStrictEqual(shape(fold(view, msgs)), shape(expected.view));
  assert.deepStrictEqual(shape(foldEntries(view, msgs.map(decodeEntry))), shape(expected.view));
};

/** A view no reducer can handle: every file's locations are gone, so installing a version throws. */
const corrupt = (view: View): View => ({ ...view, files: view.files.map((f): FileRecord => ({ ...f, locations: null as never })) });

describe('batch fold', () => {
  test('equals stepping through the same messages, in any batch split', () => {
    const arb = scenarioArb().chain((s) => fc.tuple(fc.constant(s), fc.nat({ max: s.log.length })));
    fc.assert(fc.property(arb, ([{ log }, cut]) => {
      sameAsStepping(emptyView(), log);
      sameAsStepping(fold(emptyView(), log.slice(0, cut)), log.slice(cut));
      sameAsStepping(fold(emptyView(), log), log); // all at or below view.seq
    }), { numRuns: 150 });
  });

  test('reducers throwing mid-batch: the failed steps are discarded and parked as rejected, as `step` does', () => {
    const arb = scenarioArb({ minActions: 10 }).chain((s) => fc.tuple(fc.constant(s), fc.nat({ max: s.log.length })));
    let parked = 0;
    fc.assert(fc.property(arb, ([{ log }, cut]) => {
      const start = corrupt(fold(emptyView(), log.slice(0, cut)));
      sameAsStepping(start, log.slice(cut));
      parked += [...foldTouched(start, log.slice(cut)).view.rejected.values()].filter((r) => r.reason.startsWith('internal error')).length;
    }), { numRuns: 150 });
    assert.ok(parked > 0, 'some reducers threw');
  });

  test('a step that threw after editing the batch leaves no trace but its rejected entry', () => {
    // sync.requested marks the pending entry, then reads the file's locations, which throws here.
    const setup = storedLog([regionRegistered({ region: 'r1' }), regionRegistered({ region: 'r2', id: 'join-r2' }), fileRegistered()]);
    const start = corrupt(fold(emptyView(), setup));
    const pendingBefore = start.pending.get('r2/f1');
    assert.equal(pendingBefore?.requested, null);
    const msgs = storedLog([syncRequested(), regionRegistered({ region: 'r3', id: 'join-r3' })], setup.length + 1);
    const batch = foldTouched(start, msgs);
    assert.deepStrictEqual(batch.view.pending.get('r2/f1'), pendingBefore);
    const entry = batch.view.rejected.get('dispatched:r2:1');
    assert.match(entry?.reason ?? '', /^internal error while applying: /);
    assert.deepStrictEqual(batch.events.map((e) => [e.seq, e.rejected]), [[4, true], [5, false]]);
    assert.equal(batch.view.regions.get('r3')?.active, true);
    sameAsStepping(start, msgs);
  });

  test('long batches (past the point where the fold freezes and continues) with a failure after it', () => {
    const setup = storedLog([regionRegistered({ region: 'r1' }), regionRegistered({ region: 'r2', id: 'join-r2' }), fileRegistered({ file: { fileId: 'bad' } })]);
    const start = corrupt(fold(emptyView(), setup));
    const many = Array.from({ length: 9000 }, (_, i) => fileRegistered({ file: { fileId: `f${i}` } }));
    const msgs = storedLog([...many, fileUpdated({ file: { fileId: 'bad' } }), fileUpdated({ file: { fileId: 'f1' } })], setup.length + 1);
    sameAsStepping(start, msgs);
    const batch = foldTouched(start, msgs);
    assert.equal(batch.view.files.size, 9001);
    assert.deepStrictEqual(batch.events.filter((e) => e.rejected).map((e) => e.seq), [setup.length + 9001]);
  });
});
