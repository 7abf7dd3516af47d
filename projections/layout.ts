// How the view maps onto etcd keys: `<prefix>/<collection>/<encoded key>` → canonical JSON, and
// `<prefix>/checkpoint` → {"seq": n}. Pure, so a rebuild can lay a view under any prefix.
import { Map as IMap } from 'immutable';
import type { Touched } from './draft.js';
import { COLLECTIONS, emptyView, type Collection, type View } from './view.js';

export const CHECKPOINT = 'checkpoint';

/** JSON with sorted object keys: equal values give equal bytes, so views can be compared by digest. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

export const recordKey = (prefix: string, collection: Collection, key: string): string =>
  `${prefix}/${collection}/${encodeURIComponent(key)}`;

export const checkpointKey = (prefix: string): string => `${prefix}/${CHECKPOINT}`;

export type KeyWrite = { readonly key: string; readonly value: string | null };

/** The etcd writes for a set of touched records, last state wins, sorted by key. */
export const writesFor = (prefix: string, view: View, touched: Iterable<Touched>): KeyWrite[] => {
  const writes = new Map<string, KeyWrite>();
  for (const t of touched) {
    const key = recordKey(prefix, t.collection, t.key);
    const value = view[t.collection].get(t.key);
    writes.set(key, { key, value: value === undefined ? null : canonicalJson(value) });
  }
  return [...writes.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
};

/** Every key of a view, as etcd would hold it (checkpoint included). */
export const viewEntries = (prefix: string, view: View): Map<string, string> => {
  const entries = new Map<string, string>();
  for (const collection of COLLECTIONS) {
    for (const [key, value] of view[collection].entries()) entries.set(recordKey(prefix, collection, key), canonicalJson(value));
  }
  entries.set(checkpointKey(prefix), canonicalJson({ seq: view.seq }));
  return entries;
};

const isCollection = (s: string): s is Collection => (COLLECTIONS as readonly string[]).includes(s);

/** Rebuilds a view from etcd's keys under `prefix`. Unknown keys are reported, not guessed at. */
export const viewFromEntries = (
  prefix: string,
  entries: Iterable<readonly [string, string]>,
): { view: View; unknownKeys: string[] } => {
  const maps = new Map<Collection, Array<[string, unknown]>>(COLLECTIONS.map((c) => [c, []]));
  const unknownKeys: string[] = [];
  let seq = 0;
  for (const [key, value] of entries) {
    const rest = key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : undefined;
    if (rest === CHECKPOINT) {
      seq = (JSON.parse(value) as { seq: number }).seq;
      continue;
    }
    const slash = rest?.indexOf('/') ?? -1;
    const collection = rest?.slice(0, slash) ?? '';
    if (rest === undefined || slash < 0 || !isCollection(collection)) {
      unknownKeys.push(key);
      continue;
    }
    maps.get(collection)?.push([decodeURIComponent(rest.slice(slash + 1)), JSON.parse(value)]);
  }
  const view = Object.fromEntries(COLLECTIONS.map((c) => [c, IMap(maps.get(c) ?? [])])) as Omit<View, 'seq'>;
  return { view: { ...emptyView(), ...view, seq }, unknownKeys };
};

/** What etcd should hold at `key` for this view (null: no such key), for keys under `prefix`. */
export const entryAt = (prefix: string, view: View, key: string): string | null => {
  if (key === checkpointKey(prefix)) return canonicalJson({ seq: view.seq });
  const rest = key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : '';
  const slash = rest.indexOf('/');
  const collection = rest.slice(0, slash);
  if (slash < 0 || !isCollection(collection)) return null;
  const value: unknown = view[collection].get(decodeURIComponent(rest.slice(slash + 1)));
  return value === undefined ? null : canonicalJson(value);
};
