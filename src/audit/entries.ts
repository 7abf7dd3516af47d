// A view as *entries*: key relative to its prefix (`files/f1`, `checkpoint`) → canonical JSON, the
// bytes etcd holds. Entries are how views are compared wherever they live (the live prefix, a rebuild
// prefix, a snapshot, a file), and their digest is the view's fingerprint, independent of the prefix.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Etcd3 } from 'etcd3';
import type { IRequestOp } from 'etcd3/lib/rpc.js';
import { canonicalJson, checkpointKey, viewEntries, viewFromEntries } from '../../projections/layout.js';
import { COLLECTIONS, type View } from '../../projections/view.js';
import { ViewStore } from '../etcd/viewStore.js';
import { refused, usage } from './errors.js';

export type Entries = Map<string, string>;

/** The neutral prefix: viewEntries('', view) gives `/files/f1`, and the entry key is `files/f1`. */
const NEUTRAL = '';
export const CHECKPOINT_ENTRY = checkpointKey(NEUTRAL).slice(1);

export const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const entriesOfView = (view: View): Entries => {
  const out: Entries = new Map();
  for (const [key, value] of viewEntries(NEUTRAL, view)) out.set(key.slice(1), value);
  return out;
};

/** `checkpoint`, or `<collection>/<record key>`: the keys a view is made of. */
export const isViewKey = (key: string): boolean => {
  if (key === CHECKPOINT_ENTRY) return true;
  const slash = key.indexOf('/');
  return slash > 0 && slash < key.length - 1 && (COLLECTIONS as readonly string[]).includes(key.slice(0, slash));
};

/** Entries → view. Keys that are not part of the layout come back in `unknownKeys`. */
export const viewOfEntries = (entries: Entries): { view: View; unknownKeys: string[] } => {
  const { view, unknownKeys } = viewFromEntries(NEUTRAL, [...entries].map(([k, v]) => [`/${k}`, v] as const));
  return { view, unknownKeys: unknownKeys.map((k) => k.slice(1)) };
};

/** sha256 over every `key \n value \n`, keys in code-unit order: equal views, equal digests. */
export const digestOf = (entries: Entries): string => {
  const hash = createHash('sha256');
  for (const key of [...entries.keys()].sort(byKey)) hash.update(`${key}\n${entries.get(key)}\n`);
  return `sha256:${hash.digest('hex')}`;
};

/** The checkpoint an entry set claims, or undefined if it has none (or a corrupt one). */
export const seqOfEntries = (entries: Entries): number | undefined => {
  const raw = entries.get(CHECKPOINT_ENTRY);
  if (raw === undefined) return undefined;
  try {
    const seq = (JSON.parse(raw) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  } catch {
    return undefined;
  }
};

export type ViewSummary = {
  readonly seq: number;
  readonly entries: number;
  readonly digest: string;
  readonly files: { readonly total: number; readonly live: number; readonly deleted: number };
  readonly regions: { readonly total: number; readonly active: number; readonly healthy: number; readonly degraded: number; readonly offline: number };
  readonly conflicts: { readonly total: number; readonly open: number };
  readonly pending: number;
  readonly rejected: number;
  readonly policies: number;
};

export const summarize = (view: View, entries: Entries = entriesOfView(view)): ViewSummary => {
  const files = [...view.files.values()];
  const regions = [...view.regions.values()];
  const active = regions.filter((r) => r.active);
  return {
    seq: view.seq,
    entries: entries.size,
    digest: digestOf(entries),
    files: { total: files.length, live: files.filter((f) => !f.deleted).length, deleted: files.filter((f) => f.deleted).length },
    regions: {
      total: regions.length,
      active: active.length,
      healthy: active.filter((r) => r.status.state === 'healthy').length,
      degraded: active.filter((r) => r.status.state === 'degraded').length,
      offline: active.filter((r) => r.status.state === 'offline').length,
    },
    conflicts: { total: view.conflicts.size, open: [...view.conflicts.values()].filter((c) => c.status === 'open').length },
    pending: view.pending.size,
    rejected: view.rejected.size,
    policies: view.policies.size,
  };
};

// ---------------------------------------------------------------- etcd

/** A prefix for keys: starts with '/', no trailing '/', no empty segment. */
export const checkPrefix = (prefix: string, what: string): string => {
  if (!/^\/[A-Za-z0-9._:/-]*[A-Za-z0-9._:-]$/.test(prefix) || prefix.includes('//')) {
    throw usage(`${what}: "${prefix}" is not an etcd key prefix like /jzse/rebuilds/x (starts with /, no trailing /)`);
  }
  return prefix;
};

/** True if keys under one prefix can also be keys under the other. */
export const prefixesOverlap = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/** Every entry under `prefix`, read at one etcd revision (a consistent picture even while the leader writes). */
export const readEtcdEntries = async (client: Etcd3, prefix: string): Promise<Entries> => {
  const store = new ViewStore(client, prefix, { maxTxnOps: 1, maxTxnBytes: 1 });
  const out: Entries = new Map();
  for await (const { key, value } of store.scan()) out.set(key.slice(prefix.length + 1), value);
  return out;
};

export type Write = { readonly key: string; readonly value: string | null };

/** Writes that turn `current` into `wanted`, the checkpoint last (so a reader of it sees a whole view). */
export const entryWrites = (current: Entries, wanted: Entries): Write[] => {
  const writes: Write[] = [];
  for (const [key, value] of wanted) if (current.get(key) !== value) writes.push({ key, value });
  for (const key of current.keys()) if (!wanted.has(key)) writes.push({ key, value: null });
  return writes.sort((a, b) => (a.key === CHECKPOINT_ENTRY ? 1 : b.key === CHECKPOINT_ENTRY ? -1 : byKey(a.key, b.key)));
};

export const toOps = (prefix: string, writes: readonly Write[]): IRequestOp[] =>
  writes.map((w) =>
    w.value === null
      ? { request_delete_range: { key: Buffer.from(`${prefix}/${w.key}`) } }
      : { request_put: { key: Buffer.from(`${prefix}/${w.key}`), value: Buffer.from(w.value) } },
  );

/** Cuts operations into etcd transactions within the configured limits, in order. */
export const chunkOps = (ops: readonly IRequestOp[], limits: { maxTxnOps: number; maxTxnBytes: number }): IRequestOp[][] => {
  const chunks: IRequestOp[][] = [];
  let current: IRequestOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = (op.request_put?.key?.length ?? op.request_delete_range?.key?.length ?? 0) + (op.request_put?.value?.length ?? 0) + 16;
    if (current.length > 0 && (current.length >= limits.maxTxnOps || bytes + size > limits.maxTxnBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(op);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

/** A typo must not wipe someone else's keys: only an empty prefix or one holding a view is replaced. */
export const checkReplaceable = (prefix: string, keys: Iterable<string>): void => {
  const foreign = [...keys].filter((k) => !isViewKey(k));
  if (foreign.length === 0) return;
  const n = foreign.length;
  throw refused(`${prefix} holds ${n} key${n === 1 ? ' that is' : 's that are'} not part of a view (e.g. ${prefix}/${foreign[0]}): choose an empty prefix or a previous rebuild's`);
};

/** The keys under `prefix` (relative), without their values. */
export const keysUnder = async (client: Etcd3, prefix: string): Promise<string[]> =>
  (await client.getAll().prefix(`${prefix}/`).keys()).map((k) => k.slice(prefix.length + 1));

/**
 * Makes the keys under `prefix` exactly `wanted`: unfenced, so only for places of the CLI's own
 * (rebuild prefixes), never the live view. Returns the number of keys written or deleted.
 */
export const replaceEtcdEntries = async (
  client: Etcd3,
  prefix: string,
  wanted: Entries,
  limits: { maxTxnOps: number; maxTxnBytes: number },
): Promise<number> => {
  const current = await readEtcdEntries(client, prefix);
  checkReplaceable(prefix, current.keys());
  const writes = entryWrites(current, wanted);
  for (const chunk of chunkOps(toOps(prefix, writes), limits)) await client.kv.txn({ compare: [], success: chunk });
  return writes.length;
};

// ---------------------------------------------------------------- view documents (files, snapshots)

/**
 * A view document is JSON Lines: a header `{"digest","entries","jzse":"view","seq","version":1}`,
 * then one `{"key","value"}` per entry in key order, the value inlined as the canonical JSON it is.
 */
export const FORMAT = 'view';
export const FORMAT_VERSION = 1;

export type DocumentHeader = { readonly jzse: string; readonly version: number; readonly seq: number; readonly entries: number; readonly digest: string };

export const headerOf = (seq: number, entries: Entries): DocumentHeader => ({
  jzse: FORMAT,
  version: FORMAT_VERSION,
  seq,
  entries: entries.size,
  digest: digestOf(entries),
});

/** One document line per entry; values are inlined (they are canonical JSON already). */
export function* entryLines(entries: Entries): Generator<string> {
  for (const key of [...entries.keys()].sort(byKey)) yield `{"key":${JSON.stringify(key)},"value":${entries.get(key)}}\n`;
}

export const parseEntryLine = (line: string, where: string): [string, string] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw usage(`${where}: not a view document line: ${(error as Error).message}`);
  }
  const record = parsed as { key?: unknown; value?: unknown };
  if (typeof record.key !== 'string' || !('value' in record)) throw usage(`${where}: expected {"key","value"}`);
  return [record.key, canonicalJson(record.value)];
};

export const checkHeader = (parsed: unknown, where: string): DocumentHeader => {
  const h = parsed as Partial<DocumentHeader> | null;
  if (h === null || typeof h !== 'object' || h.jzse !== FORMAT || h.version !== FORMAT_VERSION || typeof h.seq !== 'number' || typeof h.digest !== 'string') {
    throw usage(`${where}: not a jzse view document (expected a first line {"jzse":"view","version":1,...})`);
  }
  return h as DocumentHeader;
};

/** Writes a view document to a file (through a temporary file, renamed at the end). */
export const writeViewFile = async (path: string, seq: number, entries: Entries): Promise<DocumentHeader> => {
  const header = headerOf(seq, entries);
  const temp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(temp);
  try {
    const write = async (text: string): Promise<void> => {
      if (!out.write(text)) await once(out, 'drain');
    };
    await write(`${canonicalJson(header)}\n`);
    for (const line of entryLines(entries)) await write(line);
    out.end();
    await once(out, 'finish');
    renameSync(temp, path);
  } catch (error) {
    out.destroy();
    rmSync(temp, { force: true });
    throw error;
  }
  return header;
};

/** Reads a view document; its digest must match its entries. */
export const readViewFile = async (path: string): Promise<{ header: DocumentHeader; entries: Entries }> => {
  const input = createReadStream(path, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    input.once('ready', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw usage(`${path}: cannot read: ${(error as Error).message}`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let header: DocumentHeader | undefined;
  const entries: Entries = new Map();
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line === '') continue;
    if (header === undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = null;
      }
      header = checkHeader(parsed, `${path}:1`);
      continue;
    }
    const [key, value] = parseEntryLine(line, `${path}:${n}`);
    entries.set(key, value);
  }
  if (header === undefined) throw usage(`${path}: empty file, not a jzse view document`);
  const digest = digestOf(entries);
  if (digest !== header.digest) throw usage(`${path}: digest mismatch (header ${header.digest}, entries ${digest}): truncated or edited`);
  return { header, entries };
};
