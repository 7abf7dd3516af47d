// Fast checks for the RFC 3339 forms almost every timestamp takes, without regular expressions or
// Date: a real calendar instant (Date.parse would roll 2026-02-30 over to March).
const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
};

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Only the forms JetStream and our regions write: `YYYY-MM-DDTHH:MM:SS[.mmm]Z` from year 1000 on
 * (earlier years go to io-ts, whose check treats two-digit years specially). Anything this accepts
 * the Instant codec accepts too.
 */
export const isSimpleInstant = (u: unknown): u is string => {
  if (typeof u !== 'string') return false;
  const s = u;
  if (s.length === 24) {
    if (s.charCodeAt(19) !== 46 /* . */ || digits(s, 20, 3) < 0 || s.charCodeAt(23) !== 90 /* Z */) return false;
  } else if (s.length !== 20 || s.charCodeAt(19) !== 90) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS[month - 1] ?? 0));
};

/** Exactly what `Date.prototype.toISOString` writes (years 1000–9999): string order is time order. */
export const isCanonicalInstant = (s: string): boolean => s.length === 24 && isSimpleInstant(s);
