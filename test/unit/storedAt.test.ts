// The store time of a replayed message: the fast path through nats.js's parsed double must give the
// millisecond the exact BigInt gives, for every int64 nanosecond value, boundaries included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { storedMillis } from '../../src/nats/read.js';

fc.configureGlobal({ includeErrorInReport: true });

const MAX = 2n ** 63n - 1n;
/** Parsed as nats.js parses the reply subject's timestamp token. */
const check = (nanos: bigint): void => {
  const exact = Number(nanos / 1_000_000n);
  assert.equal(storedMillis(parseInt(String(nanos), 10), () => nanos), exact, `${nanos} ns`);
};

describe('store time of a stream message', () => {
  test('any int64 nanoseconds', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX }), check), { numRuns: 20_000 });
  });

  test('near millisecond boundaries, at today\'s dates and at the far end of int64', () => {
    const near = fc.tuple(fc.bigInt({ min: 1n, max: MAX / 1_000_000n - 1n }), fc.integer({ min: -5000, max: 5000 }))
      .map(([ms, delta]) => ms * 1_000_000n + BigInt(delta));
    const today = fc.tuple(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), fc.integer({ min: -5000, max: 5000 }))
      .map(([ms, delta]) => BigInt(ms) * 1_000_000n + BigInt(delta));
    fc.assert(fc.property(fc.oneof(near, today), check), { numRuns: 20_000 });
  });

  test('a token that is not a number is left to the exact parse, which throws as before', () => {
    assert.throws(() => storedMillis(parseInt('x', 10), () => BigInt('x')), SyntaxError);
  });
});
