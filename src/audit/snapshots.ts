// Snapshots: the view at a sequence, stored so rebuilds and recoveries can start from the nearest one
// instead of from sequence 1. In etcd, outside the live view:
//
//   <root>/snapshots/data/<seq, 20 digits>/<chunk, 6 digits>   view-document lines, ≤ chunk bytes each
//   <root>/snapshots/index/<seq, 20 digits>                    the document header + chunk count
//
// Chunks are written first and the index key last, so a snapshot is listed only once complete. A
// snapshot is checked against its digest when loaded; a damaged one is skipped, never trusted.
import type { Etcd3 } from 'etcd3';
import { canonicalJson } from '../../projections/layout.js';
import { prefixEnd } from '../etcd/viewStore.js';
import {
  checkHeader, digestOf, entryLines, headerOf, parseEntryLine, type DocumentHeader, type Entries,
} from './entries.js';

export type SnapshotInfo = DocumentHeader & { readonly chunks: number; readonly bytes: number };

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const indexPrefix = (root: string): string => `${root}/snapshots/index/`;
const dataPrefix = (root: string, seq: number): string => `${root}/snapshots/data/${pad(seq, 20)}/`;

/** Every complete snapshot, oldest first. */
export const listSnapshots = async (client: Etcd3, root: string): Promise<SnapshotInfo[]> => {
  const prefix = Buffer.from(indexPrefix(root));
  const res = await client.kv.range({ key: prefix, range_end: prefixEnd(prefix) });
  const out: SnapshotInfo[] = [];
  for (const kv of res.kvs) {
    try {
      const parsed = JSON.parse(kv.value.toString()) as SnapshotInfo;
      checkHeader(parsed, kv.key.toString());
      out.push(parsed);
    } catch {
      // A damaged index entry is not a snapshot.
    }
  }
  return out.sort((a, b) => a.seq - b.seq);
};

/** Stores `entries` (the view at `seq`) as a snapshot; an identical one already stored is kept as is. */
export const writeSnapshot = async (
  client: Etcd3,
  root: string,
  seq: number,
  entries: Entries,
  chunkBytes: number,
): Promise<{ info: SnapshotInfo; written: boolean }> => {
  const header = headerOf(seq, entries);
  const existing = (await listSnapshots(client, root)).find((s) => s.seq === seq);
  if (existing?.digest === header.digest) {
    // Kept only if it still loads: a damaged chunk is rewritten.
    const intact = await loadSnapshot(client, root, existing).then(() => true, () => false);
    if (intact) return { info: existing, written: false };
  }

  const data = dataPrefix(root, seq);
  await client.delete().prefix(data).exec();
  let chunk: string[] = [];
  let chunkSize = 0;
  let chunks = 0;
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await client.put(`${data}${pad(chunks, 6)}`).value(chunk.join('')).exec();
    bytes += chunkSize;
    chunks += 1;
    chunk = [];
    chunkSize = 0;
  };
  for (const line of entryLines(entries)) {
    const size = Buffer.byteLength(line);
    if (chunk.length > 0 && chunkSize + size > chunkBytes) await flush();
    chunk.push(line);
    chunkSize += size;
  }
  await flush();
  const info: SnapshotInfo = { ...header, chunks, bytes };
  await client.put(`${indexPrefix(root)}${pad(seq, 20)}`).value(canonicalJson(info)).exec();
  return { info, written: true };
};

/** A snapshot's entries, read one chunk at a time; throws if they do not match its digest. */
export const loadSnapshot = async (client: Etcd3, root: string, info: SnapshotInfo): Promise<Entries> => {
  const entries: Entries = new Map();
  const data = dataPrefix(root, info.seq);
  for (let i = 0; i < info.chunks; i++) {
    const text = await client.get(`${data}${pad(i, 6)}`).string();
    if (text === null) throw new Error(`snapshot ${info.seq}: chunk ${i} of ${info.chunks} is missing`);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const [key, value] = parseEntryLine(line, `snapshot ${info.seq} chunk ${i}`);
      entries.set(key, value);
    }
  }
  const digest = digestOf(entries);
  if (digest !== info.digest) throw new Error(`snapshot ${info.seq}: digest mismatch (index ${info.digest}, chunks ${digest})`);
  return entries;
};

/**
 * The entries of the newest loadable snapshot at or below `target`, trying older ones when one is
 * damaged (each skip is reported through `warn`).
 */
export const nearestSnapshot = async (
  client: Etcd3,
  root: string,
  target: number,
  warn: (message: string) => void,
): Promise<{ info: SnapshotInfo; entries: Entries } | undefined> => {
  const candidates = (await listSnapshots(client, root)).filter((s) => s.seq <= target && s.seq > 0).reverse();
  for (const info of candidates) {
    try {
      return { info, entries: await loadSnapshot(client, root, info) };
    } catch (error) {
      warn(`skipping snapshot ${info.seq}: ${(error as Error).message}`);
    }
  }
  return undefined;
};
