// The hand-written validator against io-ts, the source of truth: for arbitrary events and for
// events with one or more fields broken, both accept the same inputs with the same value (keys in
// the same order), and whatever the fast path declines gets io-ts's own error message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeSlow, decodeValue } from '../../streams/decode.js';
import { eventCodecs, isEventType, type EventType } from '../../streams/events.js';
import { decodeFast } from '../../streams/fastDecode.js';

fc.configureGlobal({ includeErrorInReport: true });

type Json = Record<string, unknown>;

/** decodeValue without the fast path: io-ts, and no field the codec does not name (decode.ts decodeSlow). */
const reference = (type: EventType, value: Json): E.Either<string, unknown> => decodeSlow(type, value);

const HOT: readonly EventType[] = ['file.registered', 'file.updated', 'file.deleted', 'sync.acked'];

const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/);
const region = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const ms = fc.integer({ min: Date.UTC(-50, 0, 1), max: Date.UTC(9999, 11, 31) });
const canonicalInstant = fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((x) => new Date(x).toISOString());
/** Valid, unusual and invalid instants: the fast path must agree with io-ts on every one. */
const instant = fc.oneof(
  canonicalInstant,
  ms.map((x) => new Date(x).toISOString()),
  canonicalInstant.map((s) => s.replace(/\.\d{3}Z$/, 'Z')),
  canonicalInstant.map((s) => s.replace(/Z$/, '+02:00')),
  canonicalInstant.map((s) => s.replace(/\.(\d{3})Z$/, '.$1456Z')),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
    .map(([y, mo, d, h, s]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:${String(s).padStart(2, '0')}.000Z`),
);
const clock = fc.dictionary(region, fc.integer({ min: 0, max: 50 }), { maxKeys: 4 });
const file = fc.record(
  { fileId: id, path: fc.string({ minLength: 1, maxLength: 20 }), size: fc.nat(), checksum: fc.string({ maxLength: 10 }), modifiedAt: instant, attributes: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }) },
  { requiredKeys: ['fileId', 'path', 'size', 'checksum', 'modifiedAt'] },
);
const envelope = (type: EventType) => ({ schema: fc.constant(1), id, type: fc.constant(type), at: instant, region });

const event: fc.Arbitrary<Json> = fc.oneof(
  fc.record({ ...envelope('file.registered'), file, clock, replicas: fc.integer({ min: 1, max: 5 }) }, { requiredKeys: ['schema', 'id', 'type', 'at', 'region', 'file', 'clock'] }),
  fc.record({ ...envelope('file.updated'), file, clock }),
  fc.record({ ...envelope('file.deleted'), fileId: id, clock }),
  fc.record({ ...envelope('sync.acked'), files: fc.array(fc.record({ fileId: id, clock }), { minLength: 1, maxLength: 3 }) }),
);

/** Every place in the event a mutation can hit: [container, key] pairs. */
const places = (value: unknown, out: Array<[Json | unknown[], string]> = []): Array<[Json | unknown[], string]> => {
  if (typeof value !== 'object' || value === null) return out;
  for (const k of Object.keys(value)) {
    out.push([value as Json, k]);
    places((value as Json)[k], out);
  }
  return out;
};

const ownKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'extra', 'attributes', 'replicas', 'fileId', 'clock', 'R2', ''), fc.string({ maxLength: 4 }));
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1.5, -0, 2 ** 53, 1e308, '', 'x'.repeat(300), 'x'.repeat(5000), null, [], {}, '2026-02-30T00:00:00Z', 'file.updated'),
  instant,
  // Values that keep the event valid in many places, so mutations also produce accepted events.
  canonicalInstant, id, fc.nat(), clock,
);

type Mutation = { readonly at: number; readonly op: 'delete' | 'set' | 'add'; readonly key: string; readonly value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), op: fc.constantFrom('delete', 'set', 'add'), key: ownKey, value: oddValue });

// defineProperty: an added "__proto__" must be an own key, as JSON.parse makes it.
const setOwn = (o: Json | unknown[], k: string, v: unknown): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

/** As the fold gets it: JSON.parse's plain objects (fast-check sometimes makes null-prototype ones). */
const roundTrip = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

const mutate = (base: Json, ms: readonly Mutation[]): Json => {
  const value = roundTrip(base);
  for (const m of ms) {
    const all = places(value);
    const [container, key] = all[m.at % all.length] ?? [value, 'id'];
    if (m.op === 'delete') delete (container as Json)[key];
    else if (m.op === 'set') setOwn(container, key, m.value);
    else {
      const inner = (container as Json)[key];
      const target = typeof inner === 'object' && inner !== null ? (inner as Json | unknown[]) : container;
      // JSON arrays have no named keys: adding to one appends an element.
      if (Array.isArray(target)) target.push(m.value);
      else setOwn(target, m.key, m.value);
    }
  }
  return value;
};

/** Returns whether the fast path vouched for the value. */
const agree = (value: Json): boolean => {
  const type = value['type'];
  // A missing schema or unknown type is refused before either validator runs.
  if (value['schema'] !== 1 || !isEventType(type)) return false;
  const fast = decodeFast(type, value);
  const slow = reference(type, value);
  if (fast !== undefined) {
    assert.ok(E.isRight(slow), `fast path accepted what io-ts refuses: ${E.isLeft(slow) ? slow.left : ''}`);
    assert.deepStrictEqual(fast, slow.right);
    assert.equal(JSON.stringify(fast), JSON.stringify(slow.right), 'same keys in the same order');
  }
  // And through decodeValue, which is what the fold calls: identical Either, errors included.
  const viaDecode = decodeValue(value);
  assert.deepStrictEqual(viaDecode, slow);
  return fast !== undefined;
};

describe('fast event validator (io-ts is the reference)', () => {
  test('valid events of the hot types: accepted by both, the same value', () => {
    fc.assert(fc.property(event, (value) => {
      agree(value);
      agree(roundTrip(value));
    }), { numRuns: 1000 });
  });

  test('events with fields deleted, replaced or added: both accept the same ones, same values and errors', () => {
    const seen = { fast: 0, fallback: 0 };
    fc.assert(fc.property(event, fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, ms) => {
      seen[agree(mutate(value, ms)) ? 'fast' : 'fallback'] += 1;
    }), { numRuns: 3000 });
    // Both paths were exercised, so the agreement above means something.
    assert.ok(seen.fast > 50 && seen.fallback > 50, JSON.stringify(seen));
  });

  test('the fast path takes the events regions normally send (it is not silently bypassed)', () => {
    const canonical = fc.oneof(
      fc.record({ ...envelope('file.updated'), at: canonicalInstant, file: fc.record({ fileId: id, path: fc.string({ minLength: 1, maxLength: 9 }), size: fc.nat(), checksum: fc.string({ maxLength: 9 }), modifiedAt: canonicalInstant }), clock }),
      fc.record({ ...envelope('sync.acked'), at: canonicalInstant, files: fc.array(fc.record({ fileId: id, clock }), { minLength: 1, maxLength: 3 }) }),
    );
    fc.assert(fc.property(canonical.map(roundTrip), (value) => {
      assert.notEqual(decodeFast(value['type'] as EventType, value), undefined);
      agree(value);
    }), { numRuns: 300 });
  });

  test('other event types are left to io-ts', () => {
    for (const type of Object.keys(eventCodecs) as EventType[]) {
      if (!HOT.includes(type)) assert.equal(decodeFast(type, { schema: 1, type }), undefined);
    }
  });
});
