import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { foldStored as fold, stepStored as step } from '../support/events.js';
import { checkpointKey, recordKey, viewEntries } from '../../projections/layout.js';
import { emptyView, type StoredEvent, type View } from '../../projections/view.js';
import { decodeEvent, salvageId } from '../../streams/decode.js';
import { bytesArb, scenarioArb, subjectArb } from '../support/arbitraries.js';
import { storedAtFor } from '../support/events.js';

const PREFIX = 'jzse/view';
// Show the failing assertion itself, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true });
const RUNS = { numRuns: 150 };

const entries = (view: View): Record<string, string> => Object.fromEntries(viewEntries(PREFIX, view));
const records = (view: View): Record<string, string> => {
  const all = entries(view);
  delete all[checkpointKey(PREFIX)];
  return all;
};

/** Keys whose value differs between two views (added, removed or changed), checkpoint excluded. */
const changedKeys = (before: View, after: View): string[] => {
  const a = records(before);
  const b = records(after);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
};

/** Fails with the keys that differ and their two values, which is what a reader of a failure needs. */
const assertSameRecords = (actual: View, expected: View, what: string): void => {
  const diff = changedKeys(expected, actual);
  if (diff.length === 0) return;
  const a = records(actual);
  const e = records(expected);
  const lines = diff.slice(0, 4).map((k) => `  ${k}\n    expected: ${e[k] ?? '(absent)'}\n    actual:   ${a[k] ?? '(absent)'}`);
  assert.fail(`${what}: ${diff.length} record(s) differ\n${lines.join('\n')}`);
};

const foldAll = (log: readonly StoredEvent[]): View => fold(emptyView(), log);

describe('fold properties', () => {
  test('(a) the same events give the same view', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ log }) => {
        const copy = log.map((m) => ({ ...m, data: Uint8Array.from(m.data) }));
        assert.deepEqual(entries(foldAll(log)), entries(foldAll(copy)));
        assert.deepEqual(entries(foldAll(log)), entries(foldAll(log)));
        assert.equal(foldAll(log).seq, log.at(-1)?.seq ?? 0);
      }),
      RUNS,
    );
  });

  test('(b) a duplicate of an earlier event inserted anywhere later changes nothing but seq', () => {
    const arb = scenarioArb({ seqStep: 2, minActions: 1 }).chain((s) => {
      const decodable = s.events.flatMap((e, i) => (e === null ? [] : [i]));
      return fc
        .constantFrom(...decodable)
        .chain((from) => fc.tuple(fc.constant(s), fc.constant(from), fc.integer({ min: from + 1, max: s.log.length })));
    });
    fc.assert(
      fc.property(arb, ([scenario, from, at]) => {
        const { log } = scenario;
        const original = log[from];
        const previous = log[at - 1];
        assert.ok(original !== undefined && previous !== undefined);
        const seq = previous.seq + 1; // seqStep 2: always a free sequence before the next message
        const duplicate: StoredEvent = { seq, subject: original.subject, storedAt: storedAtFor(seq), data: original.data };
        const withDuplicate = [...log.slice(0, at), duplicate, ...log.slice(at)];
        const expected = foldAll(log);
        const actual = foldAll(withDuplicate);
        assertSameRecords(actual, expected, `duplicate of #${original.seq} (${String(scenario.events[from]?.type)} ${String(scenario.events[from]?.id)}) stored again as #${seq}`);
        assert.equal(actual.seq, Math.max(expected.seq, seq));
      }),
      RUNS,
    );
  });

  test('(c) folding in any batch split equals folding at once; a replay of folded events is ignored', () => {
    const arb = scenarioArb().chain((s) =>
      fc.tuple(fc.constant(s), fc.uniqueArray(fc.integer({ min: 0, max: s.log.length }), { maxLength: 6 })),
    );
    fc.assert(
      fc.property(arb, ([{ log }, cuts]) => {
        const whole = entries(foldAll(log));
        // One step at a time.
        let stepped = emptyView();
        for (const m of log) stepped = step(stepped, m).view;
        assert.deepEqual(entries(stepped), whole);
        // Batches: fold over slices between the cut points.
        const bounds = [0, ...[...cuts].sort((x, y) => x - y), log.length];
        let batched = emptyView();
        for (let i = 0; i + 1 < bounds.length; i++) batched = fold(batched, log.slice(bounds[i], bounds[i + 1]));
        assert.deepEqual(entries(batched), whole);
        // Resuming from a checkpoint with an overlapping batch: events at or below view.seq change nothing.
        const half = foldAll(log.slice(0, cuts[0] ?? 0));
        assert.deepEqual(entries(fold(half, log)), whole);
      }),
      RUNS,
    );
  });

  test('(d) the touched set of each step is exactly the set of records that differ', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ log }) => {
        let view = emptyView();
        for (const msg of log) {
          const result = step(view, msg);
          const touched = [...new Set(result.touched.map((t) => recordKey(PREFIX, t.collection, t.key)))].sort();
          assert.deepEqual(touched, changedKeys(view, result.view), `touched at #${msg.seq} (${result.event?.type ?? 'undecodable'})`);
          view = result.view;
        }
      }),
      RUNS,
    );
  });

  test('(e) the fold never throws on any bytes on any subject; undecodable bytes become a rejected entry with a reason', () => {
    const base = fc.oneof(
      fc.constant(emptyView()),
      scenarioArb({ maxActions: 15 }).map(({ log }) => foldAll(log)),
    );
    fc.assert(
      fc.property(base, subjectArb, bytesArb, (view, subject, data) => {
        const msg: StoredEvent = { seq: view.seq + 1, subject, storedAt: storedAtFor(view.seq + 1), data };
        const result = step(view, msg);
        assert.equal(result.view.seq, msg.seq);
        const decoded = decodeEvent(subject, data);
        if (E.isLeft(decoded)) {
          assert.equal(result.event, null);
          const key = salvageId(data) ?? `seq-${msg.seq}`;
          const entry = result.view.rejected.get(key);
          assert.ok(entry !== undefined, `no rejected entry under ${key}`);
          assert.ok(entry.reason.length > 0);
          if (!view.rejected.has(key)) {
            assert.equal(entry.reason, decoded.left);
            assert.equal(entry.seq, msg.seq);
            assert.equal(entry.subject, subject);
            assert.deepEqual(result.touched, [{ collection: 'rejected', key }]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('(e) deeply nested JSON does not throw either (it is only ~10 KB, far under the size limit)', () => {
    const depth = 10_000;
    for (const text of ['['.repeat(depth) + ']'.repeat(depth), `{"schema":1,"id":"deep-1","type":"file.updated","file":${'['.repeat(depth)}${']'.repeat(depth)}}`]) {
      const msg: StoredEvent = { seq: 1, subject: 'jzse.changes.r1', storedAt: storedAtFor(1), data: new TextEncoder().encode(text) };
      let view: View | undefined;
      assert.doesNotThrow(() => {
        view = step(emptyView(), msg).view;
      });
      assert.equal(view?.rejected.size, 1);
    }
  });
});
