// Comparing two views record by record, wherever each lives: the live view, another etcd prefix
// (a rebuild), a stored snapshot, a view document file, or the fold of the stream at a point.
import { existsSync } from 'node:fs';
import { canonicalJson } from '../../projections/layout.js';
import type { AuditContext } from './context.js';
import { byKey, checkPrefix, digestOf, entriesOfView, readEtcdEntries, readViewFile, seqOfEntries, type Entries } from './entries.js';
import { notFound, usage } from './errors.js';
import { foldTo, type FoldOptions } from './fold.js';
import { describePoint, parsePoint, parseSeq, resolvePoint, type Point } from './points.js';
import { listSnapshots, loadSnapshot } from './snapshots.js';

export type FieldChange = { readonly field: string; readonly a: unknown; readonly b: unknown };

export type RecordDiff = {
  /** The entry key, e.g. files/f1 (URI-encoded record id, as in etcd). */
  readonly key: string;
  readonly collection: string;
  /** The record id, decoded. */
  readonly id: string;
  readonly change: 'only-in-a' | 'only-in-b' | 'changed';
  /** Top-level fields that differ (changed records whose values are both JSON objects). */
  readonly fields?: readonly FieldChange[];
  readonly a?: string;
  readonly b?: string;
};

const parseOrRaw = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const splitKey = (key: string): { collection: string; id: string } => {
  const slash = key.indexOf('/');
  if (slash < 0) return { collection: key, id: '' };
  let id = key.slice(slash + 1);
  try {
    id = decodeURIComponent(id);
  } catch {
    // not encoded by the layout: show it as it is
  }
  return { collection: key.slice(0, slash), id };
};

/** Every record that differs, in key order. */
export const diffEntries = (a: Entries, b: Entries): RecordDiff[] => {
  const out: RecordDiff[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort(byKey)) {
    const va = a.get(key);
    const vb = b.get(key);
    if (va === vb) continue;
    const where = splitKey(key);
    if (vb === undefined) {
      out.push({ key, ...where, change: 'only-in-a', a: va });
      continue;
    }
    if (va === undefined) {
      out.push({ key, ...where, change: 'only-in-b', b: vb });
      continue;
    }
    const pa = parseOrRaw(va);
    const pb = parseOrRaw(vb);
    let fields: FieldChange[];
    if (isObject(pa) && isObject(pb)) {
      fields = [...new Set([...Object.keys(pa), ...Object.keys(pb)])]
        .sort(byKey)
        .filter((f) => canonicalJson(pa[f]) !== canonicalJson(pb[f]))
        .map((field) => ({ field, a: pa[field], b: pb[field] }));
    } else {
      fields = [{ field: '(value)', a: pa, b: pb }];
    }
    out.push({ key, ...where, change: 'changed', fields, a: va, b: vb });
  }
  return out;
};

export type ViewSource =
  | { readonly kind: 'live' }
  | { readonly kind: 'etcd'; readonly prefix: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'at'; readonly point: Point }
  | { readonly kind: 'snapshot'; readonly seq: number };

export const SOURCE_FORMS = 'live, etcd:<prefix>, file:<path>, at:<sequence | RFC 3339 store time>, snapshot:<sequence>';

export const parseSource = (text: string, what: string): ViewSource => {
  if (text === 'live') return { kind: 'live' };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const rest = colon < 0 ? text : text.slice(colon + 1);
  switch (kind) {
    case 'etcd':
      return { kind: 'etcd', prefix: checkPrefix(rest, what) };
    case 'file':
      return { kind: 'file', path: rest };
    case 'at':
      return { kind: 'at', point: parsePoint(rest, what) };
    case 'snapshot':
      return { kind: 'snapshot', seq: parseSeq(rest, what) };
    default:
      if (existsSync(text)) return { kind: 'file', path: text };
      throw usage(`${what}: "${text}" is not a view; expected one of ${SOURCE_FORMS}`);
  }
};

export const describeSource = (ctx: AuditContext, s: ViewSource): string => {
  switch (s.kind) {
    case 'live':
      return `live view (etcd ${ctx.viewPrefix})`;
    case 'etcd':
      return `etcd ${s.prefix}`;
    case 'file':
      return `file ${s.path}`;
    case 'at':
      return `fold of the stream at ${describePoint(s.point)}`;
    case 'snapshot':
      return `snapshot ${s.seq}`;
  }
};

export type LoadedView = { readonly label: string; readonly seq: number | undefined; readonly digest: string; readonly entries: Entries };

export const loadSource = async (ctx: AuditContext, source: ViewSource, what: string, fold: FoldOptions = {}): Promise<LoadedView> => {
  const label = describeSource(ctx, source);
  let entries: Entries;
  switch (source.kind) {
    case 'live':
      entries = await readEtcdEntries(await ctx.etcd(), ctx.viewPrefix);
      break;
    case 'etcd':
      entries = await readEtcdEntries(await ctx.etcd(), source.prefix);
      if (entries.size === 0) throw notFound(`${what}: nothing under etcd prefix ${source.prefix}`);
      break;
    case 'file':
      entries = (await readViewFile(source.path)).entries;
      break;
    case 'at': {
      const s = await ctx.nats();
      const seq = await resolvePoint(s, source.point, what);
      entries = entriesOfView((await foldTo(ctx, seq, fold)).view);
      break;
    }
    case 'snapshot': {
      const info = (await listSnapshots(await ctx.etcd(), ctx.root)).find((i) => i.seq === source.seq);
      if (info === undefined) throw notFound(`${what}: no snapshot at sequence ${source.seq}`);
      entries = await loadSnapshot(await ctx.etcd(), ctx.root, info);
      break;
    }
  }
  return { label, seq: seqOfEntries(entries), digest: digestOf(entries), entries };
};
