// Policy lookup is memoized per policies map; it must choose exactly what the rule says: among the
// matching policies that set the field, the most literal pattern, ties to the latest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Map as IMap } from 'immutable';
import { BUILT_IN_POLICY, patternMatches, policyAmong, policyFor } from '../../projections/policies.js';
import { emptyView, type PolicyRecord } from '../../projections/view.js';

const literal = (p: PolicyRecord): number => p.pattern.replace(/[*?]/g, '').length;

/** The rule, written plainly: filter, then sort by specificity and time (stable for equal ones). */
const reference = (policies: readonly PolicyRecord[], path: string, field: 'sync' | 'conflict'): string | null =>
  policies
    .filter((p) => patternMatches(p.pattern, path) && p[field] !== null)
    .sort((a, b) => literal(b) - literal(a) || (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))[0]?.[field] ?? null;

const segment = fc.constantFrom('a', 'b', 'data', '*', '**', '?x', 'logs');
const patternArb = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
const pathArb = fc.array(fc.constantFrom('a', 'b', 'data', 'logs', 'ax', 'bx'), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);
const policyArb = fc.record({
  pattern: fc.oneof(patternArb, fc.constant('**')),
  sync: fc.constantFrom('eager', 'lazy', 'on_demand', null),
  conflict: fc.constantFrom('last_writer_wins', 'merge', 'manual', 'fork', null),
  at: fc.integer({ min: 0, max: 5 }).map((s) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString()),
}).map((p): PolicyRecord => ({ ...p, eventId: `e-${p.pattern}`, operator: 'op', recentEventIds: [] }));

describe('policy lookup', () => {
  test('policyFor (memoized per map) and policyAmong choose what the rule says, for any policies and paths', () => {
    fc.assert(
      fc.property(fc.uniqueArray(policyArb, { selector: (p) => p.pattern, maxLength: 8 }), fc.array(pathArb, { minLength: 1, maxLength: 6 }), (policies, paths) => {
        const view = { ...emptyView(), policies: IMap(policies.map((p) => [p.pattern, p] as const)) };
        for (const path of paths) {
          const expected = {
            sync: reference(policies, path, 'sync') ?? BUILT_IN_POLICY.sync,
            conflict: reference(policies, path, 'conflict') ?? BUILT_IN_POLICY.conflict,
          };
          assert.deepEqual(policyFor(view, path), expected);
          assert.deepEqual(policyAmong(policies, path), expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a new policies map is ranked afresh, not served from the previous one', () => {
    const p = (pattern: string, sync: 'eager' | 'lazy'): PolicyRecord =>
      ({ pattern, sync, conflict: null, at: '2026-01-01T00:00:00.000Z', eventId: pattern, operator: 'op', recentEventIds: [] });
    const first = { ...emptyView(), policies: IMap([['/data', p('/data', 'eager')]]) };
    assert.equal(policyFor(first, '/data/x').sync, 'eager');
    const second = { ...first, policies: first.policies.set('/data/x', p('/data/x', 'lazy')) };
    assert.equal(policyFor(second, '/data/x').sync, 'lazy');
    assert.equal(policyFor(first, '/data/x').sync, 'eager');
  });
});
