// Reads the view from etcd for any instance, and waits for the checkpoint to reach a sequence
// (read-your-writes) by watching the checkpoint key rather than polling it.
import type { Etcd3, Watcher } from 'etcd3';
import { checkpointKey, recordKey } from '../../projections/layout.js';
import { prefixEnd } from '../etcd/viewStore.js';
import type { Collection, ConflictRecord, FileRecord, PendingChange, RecordOf, RegionRecord, RejectedEntry } from '../../projections/view.js';

export type Page<T> = { readonly items: T[]; readonly next: string };

const parseSeq = (value: string | null): number => (value === null ? 0 : (JSON.parse(value) as { seq: number }).seq);

export class ViewReader {
  private latest = 0;
  private waiters = new Set<{ seq: number; resolve: () => void }>();
  private watcher: Watcher | undefined;

  constructor(private readonly client: Etcd3, readonly prefix: string) {}

  async start(): Promise<void> {
    if (this.watcher === undefined) {
      this.watcher = await this.client.watch().key(checkpointKey(this.prefix)).create();
      this.watcher.on('put', (kv) => this.advance(parseSeq(kv.value.toString())));
    }
    this.advance(await this.checkpoint());
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
    for (const w of this.waiters) w.resolve();
  }

  private advance(seq: number): void {
    if (seq <= this.latest) return;
    this.latest = seq;
    for (const w of this.waiters) if (w.seq <= seq) w.resolve();
  }

  async checkpoint(): Promise<number> {
    const seq = parseSeq(await this.client.get(checkpointKey(this.prefix)).string());
    this.advance(seq);
    return seq;
  }

  /** Resolves true once the view reflects `seq`, false at the deadline. */
  async waitFor(seq: number, deadline: number): Promise<boolean> {
    if (seq <= this.latest || seq <= (await this.checkpoint())) return true;
    return new Promise((resolve) => {
      const waiter = { seq, resolve: () => finish(true) };
      const timer = setTimeout(() => void this.checkpoint().then((s) => finish(s >= seq), () => finish(false)), Math.max(0, deadline - Date.now()));
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(reached);
      };
      this.waiters.add(waiter);
    });
  }

  async get<C extends Collection>(collection: C, key: string): Promise<RecordOf<C> | undefined> {
    const value = await this.client.get(recordKey(this.prefix, collection, key)).string();
    return value === null ? undefined : (JSON.parse(value) as RecordOf<C>);
  }

  async getMany<C extends Collection>(collection: C, keys: readonly string[]): Promise<Map<string, RecordOf<C>>> {
    const out = new Map<string, RecordOf<C>>();
    for (let i = 0; i < keys.length; i += 100) {
      const found = await Promise.all(keys.slice(i, i + 100).map(async (k) => [k, await this.get(collection, k)] as const));
      for (const [k, v] of found) if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  /**
   * A page of a collection in key order, optionally under a key prefix, keeping only records that
   * pass `keep`. The token is the last key returned (opaque to callers).
   */
  async page<C extends Collection>(
    collection: C,
    options: { keyPrefix?: string; after?: string; limit: number; keep?: (r: RecordOf<C>) => boolean },
  ): Promise<Page<RecordOf<C>>> {
    const base = recordKey(this.prefix, collection, '');
    const from = options.keyPrefix === undefined ? base : recordKey(this.prefix, collection, options.keyPrefix);
    const end = prefixEnd(Buffer.from(from));
    const items: Array<RecordOf<C>> = [];
    let cursor = options.after ? `${base}${options.after}\u0000` : from;
    if (cursor < from) cursor = from;
    let lastKey = '';
    for (;;) {
      const batch = await this.client.kv.range({ key: Buffer.from(cursor), range_end: end, limit: 500 });
      for (const kv of batch.kvs) {
        const record = JSON.parse(kv.value.toString()) as RecordOf<C>;
        lastKey = kv.key.toString();
        if (options.keep && !options.keep(record)) continue;
        items.push(record);
        if (items.length === options.limit) return { items, next: lastKey.slice(base.length) };
      }
      if (!batch.more || batch.kvs.length === 0) return { items, next: '' };
      cursor = `${lastKey}\u0000`;
    }
  }

  /** How many versions a region still has to apply (a count, not a read of them). */
  async pendingCount(region: string): Promise<number> {
    const from = Buffer.from(recordKey(this.prefix, 'pending', `${region}/`));
    const res = await this.client.kv.range({ key: from, range_end: prefixEnd(from), count_only: true });
    return Number(res.count);
  }

  file = (id: string): Promise<FileRecord | undefined> => this.get('files', id);
  region = (id: string): Promise<RegionRecord | undefined> => this.get('regions', id);
  conflict = (id: string): Promise<ConflictRecord | undefined> => this.get('conflicts', id);
  rejected = (id: string): Promise<RejectedEntry | undefined> => this.get('rejected', id);
  pendingOf = (region: string, after: string, limit: number, keep?: (p: PendingChange) => boolean) =>
    this.page('pending', { keyPrefix: `${region}/`, after, limit, ...(keep ? { keep } : {}) });
}

