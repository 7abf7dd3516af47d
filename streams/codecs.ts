// Reusable io-ts building blocks: every refinement carries a name that says what is allowed,
// because that name is what the error a region reads will show.
import * as t from 'io-ts';

const boundedString = (name: string, min: number, max: number, pattern?: RegExp) =>
  t.refinement(
    t.string,
    (s): boolean => s.length >= min && s.length <= max && (pattern === undefined || pattern.test(s)),
    name,
  );

/** Ids of events, regions and files: printable, no whitespace, no slash, no control characters. */
export const Id = boundedString('id (1-128 chars of A-Z a-z 0-9 . _ : -)', 1, 128, /^[A-Za-z0-9._:-]+$/);
export const RegionId = boundedString('region id (1-64 chars of a-z 0-9 _ -)', 1, 64, /^[a-z0-9_-]+$/);
export const Text = (max: number) => boundedString(`string of at most ${max} chars`, 0, max);
export const NonEmptyText = (max: number) => boundedString(`non-empty string of at most ${max} chars`, 1, max);

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** An RFC 3339 instant with an explicit zone, e.g. 2026-11-25T10:00:00.000Z. */
export const Instant = t.refinement(
  t.string,
  (s): boolean => ISO_INSTANT.test(s) && Number.isFinite(Date.parse(s)),
  'RFC 3339 timestamp with zone (e.g. 2026-11-25T10:00:00Z)',
);

export const Count = t.refinement(
  t.number,
  (n): boolean => Number.isSafeInteger(n) && n >= 0,
  'non-negative integer',
);
export const PositiveCount = t.refinement(t.number, (n): boolean => Number.isSafeInteger(n) && n >= 1, 'integer >= 1');
export const Fraction = t.refinement(t.number, (n): boolean => n >= 0 && n <= 1, 'number between 0 and 1');
export const Latitude = t.refinement(t.number, (n): boolean => n >= -90 && n <= 90, 'latitude between -90 and 90');
export const Longitude = t.refinement(t.number, (n): boolean => n >= -180 && n <= 180, 'longitude between -180 and 180');

/** A vector clock: region id → counter. Bounded so one event cannot carry an unbounded map. */
export const VectorClock = t.refinement(
  t.record(RegionId, Count),
  (vc): boolean => Object.keys(vc).length <= 256,
  'vector clock (at most 256 regions)',
);

export const Attributes = t.refinement(
  t.record(Text(256), Text(4096)),
  (a): boolean => Object.keys(a).length <= 128,
  'attributes (at most 128 string keys of <= 256 chars with string values of <= 4096 chars)',
);
