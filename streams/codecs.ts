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

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

// Date.parse rolls 2026-02-30 over to 2 March; a timestamp must name a real calendar instant.
const isRealInstant = (s: string): boolean => {
  const m = ISO_INSTANT.exec(s);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  return (
    calendar.getUTCFullYear() === year && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day &&
    hour < 24 && minute < 60 && second < 60 && Number(m[9] ?? 0) < 24 && Number(m[10] ?? 0) < 60 &&
    Number.isFinite(Date.parse(s))
  );
};

/** An RFC 3339 instant with an explicit zone, e.g. 2026-11-25T10:00:00.000Z. */
export const Instant = t.refinement(t.string, isRealInstant, 'RFC 3339 timestamp with zone (e.g. 2026-11-25T10:00:00Z)');

export const Count = t.refinement(
  t.number,
  (n): boolean => Number.isSafeInteger(n) && n >= 0,
  'non-negative integer',
);
export const PositiveCount = t.refinement(t.number, (n): boolean => Number.isSafeInteger(n) && n >= 1, 'integer >= 1');
export const Fraction = t.refinement(t.number, (n): boolean => n >= 0 && n <= 1, 'number between 0 and 1');
export const Latitude = t.refinement(t.number, (n): boolean => n >= -90 && n <= 90, 'latitude between -90 and 90');
export const Longitude = t.refinement(t.number, (n): boolean => n >= -180 && n <= 180, 'longitude between -180 and 180');

/**
 * A string-keyed map whose every key is checked: io-ts' own record silently drops keys that fail a
 * refined domain, and a region must hear that `clock.R2` is not a region id instead.
 */
export const checkedRecord = <V extends t.Mixed>(key: t.Decoder<unknown, string> & { name: string }, value: V, maxKeys: number, name: string) =>
  new t.Type<Record<string, t.TypeOf<V>>, Record<string, t.OutputOf<V>>, unknown>(
    name,
    (u): u is Record<string, t.TypeOf<V>> => typeof u === 'object' && u !== null && !Array.isArray(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c);
      const entries = Object.entries(u as Record<string, unknown>);
      if (entries.length > maxKeys) return t.failure(u, c, `${name}: more than ${maxKeys} keys`);
      const errors: t.Errors = [];
      const out: Array<[string, t.TypeOf<V>]> = [];
      for (const [k, v] of entries) {
        const keyContext = t.appendContext(c, k, key, k);
        const decodedKey = key.validate(k, keyContext);
        if (decodedKey._tag === 'Left') errors.push(...decodedKey.left);
        const decodedValue = value.validate(v, t.appendContext(c, k, value, v));
        if (decodedValue._tag === 'Left') errors.push(...decodedValue.left);
        else out.push([k, decodedValue.right as t.TypeOf<V>]);
      }
      // fromEntries defines own properties, so a key such as "__proto__" stays data.
      return errors.length > 0 ? t.failures(errors) : t.success(Object.fromEntries(out));
    },
    (a) => a,
  );

/** A vector clock: region id → counter. Bounded so one event cannot carry an unbounded map. */
export const VectorClock = checkedRecord(RegionId, Count, 256, 'vector clock (region id → non-negative integer, at most 256 regions)');

export const Attributes = checkedRecord(Text(256), Text(4096), 128,
  'attributes (at most 128 keys of <= 256 chars with string values of <= 4096 chars)');
