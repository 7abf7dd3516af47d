// Points in the history: a stream sequence, or a time. A time always means the stream's *store
// time* (JetStream's timestamp, the stream leader's single clock), never the event's own `at`:
// store times grow with the sequence, so "everything up to T" is a prefix of the log, i.e. a view
// the projector actually passed through. Events' own timestamps come from each region's clock, may
// be skewed and are not ordered by sequence; folding "events with at <= T" would pick a subset that
// never existed as a view (and the fold caps an event's time at its store time anyway).
import { Instant } from '../../streams/codecs.js';
import { lastSequence } from '../nats/read.js';
import type { StreamAccess } from './context.js';
import { usage } from './errors.js';

export type Point = { readonly kind: 'seq'; readonly seq: number } | { readonly kind: 'time'; readonly ms: number; readonly text: string };

const TIME_EXAMPLE = 'e.g. 2026-11-25T10:00:00Z or 2026-11-25T11:00:00.250+01:00';

/** An RFC 3339 time with a zone → milliseconds since the epoch (sub-millisecond digits dropped). */
const isInstant = (text: string): boolean => Instant.is(text);

export const parseTime = (text: string, what: string): number => {
  if (!isInstant(text)) throw usage(`${what}: "${text}" is not an RFC 3339 time with a zone (${TIME_EXAMPLE})`);
  return Date.parse(text);
};

export const parseSeq = (text: string, what: string): number => {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usage(`${what}: "${text}" is not a stream sequence (a non-negative integer)`);
  }
  return Number(text);
};

/** `123` is a sequence; anything else must be an RFC 3339 time with a zone. */
export const parsePoint = (text: string, what: string): Point => {
  if (/^\d+$/.test(text)) return { kind: 'seq', seq: parseSeq(text, what) };
  if (!isInstant(text)) {
    throw usage(`${what}: "${text}" is neither a stream sequence nor an RFC 3339 time with a zone (${TIME_EXAMPLE})`);
  }
  return { kind: 'time', ms: Date.parse(text), text };
};

export const describePoint = (p: Point): string => (p.kind === 'seq' ? `sequence ${p.seq}` : `store time ${p.text}`);

/** JetStream's RFC 3339 timestamp with nanoseconds → ms, truncated like src/nats/read.ts storedEventOf. */
export const nanoTimeToMs = (text: string): number => {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (m === null) return Date.parse(text);
  return Date.parse(`${m[1]}${m[3]}`) + Number((m[2] ?? '').padEnd(3, '0').slice(0, 3));
};

/** The store time (ms) of one message. Every sequence 1..last exists: the stream denies deletes. */
export const storedMsOf = async (s: StreamAccess, seq: number): Promise<number> => {
  const msg = await s.jsm.streams.getMessage(s.stream, { seq });
  if (msg === null) throw new Error(`message ${seq} missing from stream ${s.stream}`);
  return nanoTimeToMs(msg.timestamp);
};

export const streamLast = (s: StreamAccess): Promise<number> => lastSequence(s.jsm, s.stream);

/**
 * The last sequence whose store time (at millisecond precision) is <= ms, 0 if none: a binary search
 * over sequences, which relies on store times not decreasing along the stream.
 */
export const seqAtTime = async (s: StreamAccess, ms: number, last: number): Promise<number> => {
  if (last === 0 || (await storedMsOf(s, 1)) > ms) return 0;
  if ((await storedMsOf(s, last)) <= ms) return last;
  let lo = 1; // stored <= ms
  let hi = last; // stored > ms
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if ((await storedMsOf(s, mid)) <= ms) lo = mid;
    else hi = mid;
  }
  return lo;
};

/** A point → the sequence it names; a sequence past the stream's end is a usage error. */
export const resolvePoint = async (s: StreamAccess, p: Point, what: string, last?: number): Promise<number> => {
  const end = last ?? (await streamLast(s));
  if (p.kind === 'time') return seqAtTime(s, p.ms, end);
  if (p.seq > end) throw usage(`${what}: sequence ${p.seq} is beyond the stream's last sequence ${end}`);
  return p.seq;
};
