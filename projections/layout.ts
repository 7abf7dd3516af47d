// How the view maps onto etcd keys: `<prefix>/<collection>/<encoded key>` → canonical JSON, and
// `<prefix>/checkpoint` → {"seq": n}. Pure, so a rebuild can lay a view under any prefix.
import { Map as IMap } from 'immutable';
import type { Touched } from './draft.js';
import { COLLECTIONS, emptyView, type Collection, type View } from './view.js';

export const CHECKPOINT = 'checkpoint';

/**
 * JSON with sorted object keys: equal values give equal bytes, so views can be compared by digest.
 * The order is the one `JSON.stringify` gives an object rebuilt from its entries sorted by code unit:
 * array-index keys first in numeric order (the engine enumerates them so), then the others sorted.
 * Built as a sorted copy for the native stringify, with each record shape's order computed once: a
 * replacer that sorted and copied every object was a tenth of the leader's CPU.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(canonical('', value));

const canonical = (key: string | number, input: unknown): unknown => {
  if (input === null || typeof input !== 'object') return input;
  // toJSON runs before a replacer would see the value, as in JSON.stringify.
  const value: unknown = typeof (input as { toJSON?: unknown }).toJSON === 'function'
    ? (input as { toJSON: (key: string) => unknown }).toJSON(String(key))
    : input;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return canonicalArray(value);
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keyOrder(Object.keys(record))) {
    const member = canonical(k, record[k]);
    // Functions are left out as JSON.stringify would, and must not become the copy's own toJSON.
    if (typeof member === 'function') continue;
    if (k === '__proto__') Object.defineProperty(out, k, { value: member, enumerable: true, writable: true, configurable: true });
    else out[k] = member;
  }
  return out;
};

/** The array itself when no element changes (arrays of ids are common and long). */
const canonicalArray = (items: readonly unknown[]): readonly unknown[] => {
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const c = canonical(i, items[i]);
    if (out === undefined && c !== items[i]) out = items.slice(0, i);
    out?.push(c);
  }
  return out ?? items;
};

type ShapeNode = { readonly next: Map<string, ShapeNode>; order?: readonly string[] };
const MAX_SHAPE_NODES = 10_000;
let shapes: ShapeNode = { next: new Map() };
let shapeNodes = 0;

/** Canonical order of an object's own keys (as Object.keys lists them: index keys first, ascending). */
const keyOrder = (keys: string[]): readonly string[] => {
  let named = 0;
  while (named < keys.length && isArrayIndex(keys[named]!)) named++;
  let sorted = true;
  for (let i = named + 1; sorted && i < keys.length; i++) sorted = keys[i - 1]! < keys[i]!;
  if (sorted) return keys;
  // Records come in a few shapes: look the order up by the key sequence rather than sort each time.
  let node = shapes;
  for (const k of keys) {
    let child = node.next.get(k);
    if (child === undefined) {
      if (++shapeNodes > MAX_SHAPE_NODES) {
        shapes = { next: new Map() };
        shapeNodes = 0;
        return sortedFrom(keys, named);
      }
      child = { next: new Map() };
      node.next.set(k, child);
    }
    node = child;
  }
  return (node.order ??= sortedFrom(keys, named));
};

const sortedFrom = (keys: readonly string[], named: number): string[] =>
  [...keys.slice(0, named), ...keys.slice(named).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))];

const isArrayIndex = (key: string): boolean => {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57 || (c === 48 && key.length > 1)) return false;
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return Number(key) < 4294967295;
};

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
