// A fold step's working value: the view so far, and the journal of records changed since the
// runner's last cut — exactly what the projector has to write to etcd. The journal is owned by the
// runner and shared by the drafts of one batch, so recording a change costs O(1), not O(changes).
import { isCanonicalInstant } from '../streams/instant.js';
import { describeRejection, type Rejection } from './rejection.js';
import type { Collection, LogEntry, RecordOf, RejectedEntry, View } from './view.js';

export type Touched = { readonly collection: Collection; readonly key: string };

/** Records changed, once each, in the order first changed; truncatable to undo a failed step. */
export class Journal {
  private readonly list: Touched[] = [];
  private readonly seen = new Set<string>();
  /** Every change recorded, repeats included: the work a step did, for tests that count it. */
  operations = 0;

  add(collection: Collection, key: string): void {
    this.operations++;
    const id = `${collection}\u0000${key}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.list.push({ collection, key });
  }

  get size(): number {
    return this.list.length;
  }

  /** Forgets what was recorded after the first `size` records. */
  truncate(size: number): void {
    while (this.list.length > size) {
      const t = this.list.pop() as Touched;
      this.seen.delete(`${t.collection}\u0000${t.key}`);
    }
  }

  entries(): readonly Touched[] {
    return this.list;
  }
}

export type Draft = { readonly view: View; readonly journal: Journal };

export const draftOf = (view: View, journal: Journal = new Journal()): Draft => ({ view, journal });

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

export const put = <C extends Collection>(d: Draft, collection: C, key: string, value: RecordOf<C>): Draft => {
  d.journal.add(collection, key);
  const view = withMap(d.view, collection, d.view[collection].set(key, value as never));
  return view === d.view ? d : { view, journal: d.journal };
};

export const remove = (d: Draft, collection: Collection, key: string): Draft => {
  if (!d.view[collection].has(key)) return d;
  d.journal.add(collection, key);
  const view = withMap(d.view, collection, d.view[collection].delete(key));
  return view === d.view ? d : { view, journal: d.journal };
};

export const rejectionKey = (entry: LogEntry, eventId: string | undefined): string => eventId ?? `seq-${entry.seq}`;

const regionOf = (entry: LogEntry): string | null => {
  const e = entry.event;
  return e !== null && 'region' in e ? e.region : null;
};

/** Records why an event was not applied. An event id is rejected once: a duplicate changes nothing. */
export const reject = (d: Draft, entry: LogEntry, r: Rejection, eventId = entry.event?.id ?? (entry.event === null ? entry.eventId : undefined)): Draft => {
  const key = rejectionKey(entry, eventId);
  if (d.view.rejected.has(key)) return d;
  const record: RejectedEntry = {
    key,
    seq: entry.seq,
    subject: entry.subject,
    storedAt: entry.storedAt,
    eventId: eventId ?? null,
    type: entry.event?.type ?? null,
    region: regionOf(entry),
    principal: entry.principal,
    code: r.code,
    field: r.field,
    reason: describeRejection(r),
  };
  return put(d, 'rejected', key, record);
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
