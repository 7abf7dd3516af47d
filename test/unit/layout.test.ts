// canonicalJson is written out by hand for speed; its bytes must stay those of the replacer it
// replaced, which stays here as the oracle: stored views are compared by digest across versions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Map as IMap, List } from 'immutable';
import { foldStored as fold } from '../support/events.js';
import { canonicalJson } from '../../projections/layout.js';
import { COLLECTIONS, emptyView } from '../../projections/view.js';
import { scenarioArb } from '../support/arbitraries.js';

fc.configureGlobal({ includeErrorInReport: true });

const oracle = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

// Keys that order differently by code unit and by the engine's enumeration, or are special to it.
const keyArb = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'toJSON', 'constructor', '0', '1', '2', '10', '01', '-1', '1.5', '4294967294', '4294967295', '9007199254740993', 'a', 'B', 'é', '\u{1F600}', '\ud800'),
  fc.nat().map(String),
);

const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.sparseArray(tie('value'), { maxLength: 5 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 6 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 4, noNullPrototype: false }),
    fc.date({ noInvalidDate: false }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 3 }).map((o) => IMap(o)),
    fc.array(tie('value'), { maxLength: 3 }).map((a) => List(a)),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 3 }).map((o) => ({ ...o, toJSON: () => o })),
    fc.oneof(fc.string(), fc.integer(), fc.boolean()).map((p) => Object(p) as object),
    fc.constant(() => 1),
  ),
}));

describe('canonicalJson', () => {
  test('the same bytes as the sorting replacer, for any JSON-able value', () => {
    fc.assert(fc.property(valueArb, (value) => assert.equal(canonicalJson(value), oracle(value))), { numRuns: 2000 });
  });

  test('the same bytes for every record of folded logs', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ log }) => {
        const view = fold(emptyView(), log);
        for (const c of COLLECTIONS) for (const record of view[c].values()) assert.equal(canonicalJson(record), oracle(record));
      }),
      { numRuns: 100 },
    );
  });

  test('the same bytes whatever the order the keys were inserted in, and past the shape cache', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { maxLength: 12 }), fc.integer(), (keys, seed) => {
        const shuffled = [...keys].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7));
        const one = Object.fromEntries(keys.map((k, i) => [k, i]));
        const other = Object.fromEntries(shuffled.map((k) => [k, keys.indexOf(k)]));
        assert.equal(canonicalJson(one), oracle(one));
        assert.equal(canonicalJson(other), canonicalJson(one));
      }),
      { numRuns: 3000 },
    );
  });
});
