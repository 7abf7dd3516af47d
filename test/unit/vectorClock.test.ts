import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareVectorClocks, mergeVectorClocks, normalizeClock, type Ordering } from '../../projections/vectorClock.js';
import type { VectorClock } from '../../streams/events.js';
import { clockArb } from '../support/arbitraries.js';

// Show the failing assertion itself, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true });
const RUNS = { numRuns: 200 };
const clock = clockArb();

/** Adds non-negative amounts to some entries (at least one positive when `strict`). */
const grow = (base: VectorClock, strict: boolean): fc.Arbitrary<VectorClock> =>
  fc
    .dictionary(fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5'), fc.nat(3), { maxKeys: 5 })
    .filter((d) => !strict || Object.values(d).some((n) => n > 0))
    .map((d) => {
      const out: Record<string, number> = { ...base };
      for (const [k, n] of Object.entries(d)) out[k] = (out[k] ?? 0) + n;
      return out;
    });

/** The reference definition: pointwise ≤ over the union of keys, a missing entry being 0. */
const reference = (a: VectorClock, b: VectorClock): Ordering => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const get = (c: VectorClock, k: string): number => (Object.prototype.hasOwnProperty.call(c, k) ? (c[k] ?? 0) : 0);
  const le = [...keys].every((k) => get(a, k) <= get(b, k));
  const ge = [...keys].every((k) => get(a, k) >= get(b, k));
  return le && ge ? 'EQUAL' : le ? 'BEFORE' : ge ? 'AFTER' : 'CONCURRENT';
};

const mirror: Record<Ordering, Ordering> = { BEFORE: 'AFTER', AFTER: 'BEFORE', EQUAL: 'EQUAL', CONCURRENT: 'CONCURRENT' };

describe('compareVectorClocks', () => {
  test('EQUAL is reflexive, and zero entries count as absent', () => {
    fc.assert(
      fc.property(clock, (a) => {
        assert.equal(compareVectorClocks(a, a), 'EQUAL');
        assert.equal(compareVectorClocks(a, normalizeClock(a)), 'EQUAL');
        assert.equal(compareVectorClocks(a, { ...a, r9: 0 }), 'EQUAL');
      }),
      RUNS,
    );
  });

  test('BEFORE and AFTER are mirror images; EQUAL and CONCURRENT are symmetric', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        assert.equal(compareVectorClocks(b, a), mirror[compareVectorClocks(a, b)]);
      }),
      RUNS,
    );
  });

  test('a strictly grown clock is AFTER its base, and the base BEFORE it', () => {
    fc.assert(
      fc.property(clock.chain((a) => fc.tuple(fc.constant(a), grow(a, true))), ([a, b]) => {
        assert.equal(compareVectorClocks(a, b), 'BEFORE');
        assert.equal(compareVectorClocks(b, a), 'AFTER');
      }),
      RUNS,
    );
  });

  test('BEFORE is transitive', () => {
    const chain = clock.chain((a) => grow(a, true).chain((b) => fc.tuple(fc.constant(a), fc.constant(b), grow(b, true))));
    fc.assert(
      fc.property(chain, ([a, b, c]) => {
        assert.equal(compareVectorClocks(a, b), 'BEFORE');
        assert.equal(compareVectorClocks(b, c), 'BEFORE');
        assert.equal(compareVectorClocks(a, c), 'BEFORE');
      }),
      RUNS,
    );
    // And over unconstrained triples, whenever the premise happens to hold.
    fc.assert(
      fc.property(clock, clock, clock, (a, b, c) => {
        fc.pre(compareVectorClocks(a, b) === 'BEFORE' && compareVectorClocks(b, c) === 'BEFORE');
        assert.equal(compareVectorClocks(a, c), 'BEFORE');
      }),
      { numRuns: 100 },
    );
  });

  test('CONCURRENT is symmetric, and two regions each bumping their own counter are CONCURRENT', () => {
    fc.assert(
      fc.property(clock, fc.constantFrom('r1', 'r2', 'r3'), fc.constantFrom('r4', 'r5'), (base, x, y) => {
        const a = { ...base, [x]: (base[x] ?? 0) + 1 };
        const b = { ...base, [y]: (base[y] ?? 0) + 1 };
        assert.equal(compareVectorClocks(a, b), 'CONCURRENT');
        assert.equal(compareVectorClocks(b, a), 'CONCURRENT');
      }),
      RUNS,
    );
  });

  test('agrees with the pointwise definition', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        assert.equal(compareVectorClocks(a, b), reference(a, b));
      }),
      RUNS,
    );
  });

  test('agrees with the pointwise definition for every valid region id (codec: /^[a-z0-9_-]{1,64}$/)', () => {
    // Region ids are data: any string the codec accepts must count, including names that also exist
    // on Object.prototype ('constructor', '__proto__').
    const regionId = fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,12}$/), fc.constantFrom('constructor', '__proto__'));
    const anyClock = fc
      .array(fc.tuple(regionId, fc.nat(4)), { maxLength: 4 })
      .map((entries): VectorClock => Object.fromEntries(entries));
    fc.assert(
      fc.property(anyClock, anyClock, (a, b) => {
        assert.equal(compareVectorClocks(a, b), reference(a, b), `compare(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
      }),
      RUNS,
    );
  });

  test("a region named 'constructor' or '__proto__' (valid region ids) is compared and merged like any other", () => {
    for (const id of ['constructor', '__proto__']) {
      const ahead: VectorClock = Object.fromEntries([[id, 2]]);
      assert.equal(compareVectorClocks(ahead, {}), 'AFTER', `compare({${id}: 2}, {})`);
      assert.equal(compareVectorClocks({}, ahead), 'BEFORE', `compare({}, {${id}: 2})`);
      assert.deepEqual(Object.entries(normalizeClock(ahead)), [[id, 2]], `normalizeClock({${id}: 2})`);
      assert.deepEqual(Object.entries(mergeVectorClocks({ r1: 1 }, ahead)), [[id, 2], ['r1', 1]].sort(), `merge({r1: 1}, {${id}: 2})`);
    }
  });
});

describe('mergeVectorClocks', () => {
  test('is an upper bound of both clocks (each compares BEFORE or EQUAL to the merge), and the least one', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        const m = mergeVectorClocks(a, b);
        assert.ok(['BEFORE', 'EQUAL'].includes(compareVectorClocks(a, m)));
        assert.ok(['BEFORE', 'EQUAL'].includes(compareVectorClocks(b, m)));
        for (const [k, v] of Object.entries(m)) assert.equal(v, Math.max(a[k] ?? 0, b[k] ?? 0));
      }),
      RUNS,
    );
  });

  test('is commutative, associative and idempotent (byte for byte: keys sorted, zeros dropped)', () => {
    fc.assert(
      fc.property(clock, clock, clock, (a, b, c) => {
        const same = (x: VectorClock, y: VectorClock) => assert.equal(JSON.stringify(x), JSON.stringify(y));
        same(mergeVectorClocks(a, b), mergeVectorClocks(b, a));
        same(mergeVectorClocks(mergeVectorClocks(a, b), c), mergeVectorClocks(a, mergeVectorClocks(b, c)));
        same(mergeVectorClocks(a, a), normalizeClock(a));
        same(mergeVectorClocks(mergeVectorClocks(a, b), b), mergeVectorClocks(a, b));
        assert.ok(Object.values(mergeVectorClocks(a, b)).every((n) => n > 0));
        const keys = Object.keys(mergeVectorClocks(a, b));
        assert.deepEqual(keys, [...keys].sort());
      }),
      RUNS,
    );
  });

  test('a CONCURRENT pair is strictly below its merge', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        fc.pre(compareVectorClocks(a, b) === 'CONCURRENT');
        const m = mergeVectorClocks(a, b);
        assert.equal(compareVectorClocks(a, m), 'BEFORE');
        assert.equal(compareVectorClocks(b, m), 'BEFORE');
      }),
      RUNS,
    );
  });
});
