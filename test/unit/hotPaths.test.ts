// Shortcuts taken on the fold's hot path, each against the general formula it replaces.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectiveAt } from '../../projections/draft.js';
import { compareVectorClocks, counterOf, mergeVectorClocks, normalizeClock, type Ordering } from '../../projections/vectorClock.js';
import { Instant } from '../../streams/codecs.js';
import { isCanonicalInstant, isSimpleInstant } from '../../streams/instant.js';

fc.configureGlobal({ includeErrorInReport: true });

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
/** Canonical, second-only, offset, invalid-calendar and odd-width instants. */
const instant = fc.oneof(
  fc.integer({ min: Date.UTC(-300, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString()),
  fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')),
  fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString().replace('Z', '+01:00')),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 999 }))
    .map(([y, mo, d, h, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(s, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`),
  fc.string({ maxLength: 26 }),
);

const clock = fc.dictionary(fc.oneof(fc.constantFrom('r1', 'r2', '10', '2', '__proto__', 'constructor'), fc.string({ maxLength: 3 })),
  fc.oneof(fc.integer({ min: -3, max: 9 }), fc.constantFrom(Number.NaN, Infinity, '4' as unknown as number)), { maxKeys: 6 });

describe('hot-path shortcuts', () => {
  test('isSimpleInstant accepts only what the Instant codec accepts; canonical ones are their own toISOString', () => {
    fc.assert(fc.property(instant, (s) => {
      if (isSimpleInstant(s)) assert.ok(Instant.is(s) && Instant.decode(s)._tag === 'Right', s);
      if (isCanonicalInstant(s)) assert.equal(new Date(Date.parse(s)).toISOString(), s);
    }), { numRuns: 5000 });
  });

  test('effectiveAt equals the earlier instant through Date, for any pair', () => {
    fc.assert(fc.property(instant, instant, (a, b) => {
      const expected = (): string => new Date(Math.min(Date.parse(a), Date.parse(b))).toISOString();
      let wanted: string | Error;
      try {
        wanted = expected();
      } catch (error) {
        wanted = error as Error;
      }
      if (wanted instanceof Error) assert.throws(() => effectiveAt(a, b));
      else assert.equal(effectiveAt(a, b), wanted);
    }), { numRuns: 5000 });
  });

  test('compareVectorClocks equals the comparison over the union of keys', () => {
    const union = (a: Record<string, number>, b: Record<string, number>): Ordering => {
      let less = false;
      let greater = false;
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (counterOf(a, key) < counterOf(b, key)) less = true;
        else if (counterOf(a, key) > counterOf(b, key)) greater = true;
      }
      return less && greater ? 'CONCURRENT' : less ? 'BEFORE' : greater ? 'AFTER' : 'EQUAL';
    };
    fc.assert(fc.property(clock, clock, (a, b) => assert.equal(compareVectorClocks(a, b), union(a, b))), { numRuns: 5000 });
  });

  test('normalizeClock equals merging with the empty clock', () => {
    fc.assert(fc.property(clock, (c) => {
      const n = normalizeClock(c);
      const m = mergeVectorClocks(c, {});
      assert.deepStrictEqual(n, m);
      assert.deepStrictEqual(Object.keys(n), Object.keys(m));
    }), { numRuns: 2000 });
  });
});
