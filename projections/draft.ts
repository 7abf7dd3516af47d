// A fold step's working value: the view so far and the keys it touched, which is exactly what the
// projector has to write to etcd for this event.
import { isCanonicalInstant } from '../streams/instant.js';
import type { Collection, RecordOf, RejectedEntry, StoredEvent, View } from './view.js';

export type Touched = { readonly collection: Collection; readonly key: string };
export type Draft = { readonly view: View; readonly touched: readonly Touched[] };

export const draftOf = (view: View): Draft => ({ view, touched: [] });

// A transient map (inside a batch fold) returns itself from set/delete: the view object is kept.
const withMap = (v: View, c: Collection, map: View[Collection]): View =>
  map === v[c]
    ? v
    : {
      seq: v.seq,
      files: c === 'files' ? (map as View['files']) : v.files,
      regions: c === 'regions' ? (map as View['regions']) : v.regions,
      pending: c === 'pending' ? (map as View['pending']) : v.pending,
      conflicts: c === 'conflicts' ? (map as View['conflicts']) : v.conflicts,
      rejected: c === 'rejected' ? (map as View['rejected']) : v.rejected,
      policies: c === 'policies' ? (map as View['policies']) : v.policies,
    };

export const put = <C extends Collection>(d: Draft, collection: C, key: string, value: RecordOf<C>): Draft => ({
  view: withMap(d.view, collection, d.view[collection].set(key, value as never)),
  touched: [...d.touched, { collection, key }],
});

export const remove = (d: Draft, collection: Collection, key: string): Draft =>
  d.view[collection].has(key)
    ? { view: withMap(d.view, collection, d.view[collection].delete(key)), touched: [...d.touched, { collection, key }] }
    : d;

export const rejectionKey = (msg: StoredEvent, eventId: string | undefined): string => eventId ?? `seq-${msg.seq}`;

/** Records why an event was not applied. An event id is rejected once: a duplicate changes nothing. */
export const reject = (
  d: Draft,
  msg: StoredEvent,
  eventId: string | undefined,
  type: string | undefined,
  reason: string,
): Draft => {
  const key = rejectionKey(msg, eventId);
  if (d.view.rejected.has(key)) return d;
  const entry: RejectedEntry = {
    key,
    seq: msg.seq,
    subject: msg.subject,
    storedAt: msg.storedAt,
    eventId: eventId ?? null,
    type: type ?? null,
    reason,
  };
  return put(d, 'rejected', key, entry);
};

/** Keeps the newest `limit` ids, oldest first. */
export const remember = (ids: readonly string[], id: string, limit = 64): readonly string[] =>
  ids.length >= limit ? [...ids.slice(ids.length - limit + 1), id] : [...ids, id];

/** The time an event counts as happening: its own timestamp, but never later than JetStream stored it,
 * so a region whose clock runs fast cannot win every last-writer-wins race. */
export const effectiveAt = (eventAt: string, storedAt: string): string => {
  // Both already in toISOString's own form (the usual case): the earlier string is the answer.
  if (isCanonicalInstant(eventAt) && isCanonicalInstant(storedAt)) return eventAt <= storedAt ? eventAt : storedAt;
  const ms = Math.min(Date.parse(eventAt), Date.parse(storedAt));
  return new Date(ms).toISOString();
};

/** Orders (time, region, event id) triples: the last-writer-wins and newest-wins rule. */
export const compareStamps = (
  a: { readonly at: string; readonly region?: string; readonly eventId: string },
  b: { readonly at: string; readonly region?: string; readonly eventId: string },
): number => {
  const dt = Date.parse(a.at) - Date.parse(b.at);
  if (dt !== 0) return Math.sign(dt);
  const dr = compareText(a.region ?? '', b.region ?? '');
  return dr !== 0 ? dr : compareText(a.eventId, b.eventId);
};

/** Code-unit order: the same on every machine, unlike localeCompare. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
