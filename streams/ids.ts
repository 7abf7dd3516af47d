// Ids the coordinator derives from other ids (demands, conflict notices): they must obey the same
// documented rule as every event id (1-128 chars of A-Z a-z 0-9 . _ : -), however long the parts.
import { Id } from './codecs.js';

export const MAX_ID_CHARS = 128;

/** The documented id rule (docs/events.md, "Common fields"). */
export const isValidId = (s: unknown): s is string => Id.is(s);

/**
 * `parts` joined by `:`; when that is longer than an id may be, its first characters and a digest of
 * the whole, so distinct inputs stay distinct and the same input always gives the same id. Parts must
 * themselves be made of id characters.
 */
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/** FNV-1a, 64 bits, over UTF-16 code units: pure and the same on every machine. */
const fnv1a64 = (s: string): string => {
  let h = FNV64_OFFSET;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * FNV64_PRIME) & MASK64;
  return h.toString(16).padStart(16, '0');
};

export const derivedId = (...parts: ReadonlyArray<string | number>): string => {
  const whole = parts.join(':');
  if (whole.length <= MAX_ID_CHARS) return whole;
  const digest = fnv1a64(whole);
  return `${whole.slice(0, MAX_ID_CHARS - digest.length - 1)}.${digest}`;
};
