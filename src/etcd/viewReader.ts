// Reads the view from etcd for any instance, and waits for the checkpoint to reach a sequence
// (read-your-writes) by watching the checkpoint key rather than polling it. A snapshot reads at the
// watched checkpoint's revision, so what it returns is exactly the view at the sequence it reports,
// without a second round trip to learn that sequence.
import type { Etcd3, Watcher } from 'etcd3';
import type { IRangeResponse } from 'etcd3/lib/rpc.js';
import { checkpointKey, recordKey } from '../../projections/layout.js';
import { prefixEnd } from './viewStore.js';
import type { Collection, ConflictRecord, FileRecord, PendingChange, RecordOf, RegionRecord, RejectedEntry } from '../../projections/view.js';
import { inPool, type Snapshot } from './snapshot.js';

export type Page<T> = { readonly items: T[]; readonly next: string };
export type PageOptions<C extends Collection> = { keyPrefix?: string; after?: string; limit: number; keep?: (r: RecordOf<C>) => boolean };

/** A checkpoint and an etcd revision at which the view is that checkpoint's. */
type Pin = { readonly seq: number; readonly revision: string };

const parseSeq = (value: string | null | undefined): number => (value == null ? 0 : (JSON.parse(value) as { seq: number }).seq);

// etcd's default --max-txn-ops; the projector's limit says what this etcd accepts.
const DEFAULT_TXN_OPS = 128;
const TXNS_IN_FLIGHT = 4;

// A pinned revision is gone once etcd compacts past it (an idle view outlives a compaction), and a
// serializable read may reach a member that has not applied it yet: re-pin at the current revision.
const isStale = (error: unknown): boolean => error instanceof Error && /compacted|future rev/i.test(error.message);

/** Point and range reads of the view at one revision (undefined: the newest, linearizable). */
class Reads {
  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly maxTxnOps: number,
    private readonly revision?: string,
    // Reads at a fixed revision give the same answer on any member that has applied it: no need for
    // a linearizable round through the etcd leader.
    private readonly serializable = revision !== undefined,
  ) {}

  private get at() {
    return this.revision === undefined ? {} : { revision: this.revision, serializable: this.serializable };
  }

  private range(key: Buffer, more: { range_end?: Buffer; limit?: number; count_only?: boolean } = {}): Promise<IRangeResponse> {
    return this.client.kv.range({ key, ...more, ...this.at });
  }

  async get<C extends Collection>(collection: C, key: string): Promise<RecordOf<C> | undefined> {
    const kv = (await this.range(Buffer.from(recordKey(this.prefix, collection, key)))).kvs[0];
    return kv === undefined ? undefined : (JSON.parse(kv.value.toString()) as RecordOf<C>);
  }

  /** Transactions of range requests, a few in flight, rather than one round trip per key. */
  async getMany<C extends Collection>(collection: C, keys: readonly string[]): Promise<Map<string, RecordOf<C>>> {
    const out = new Map<string, RecordOf<C>>();
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += this.maxTxnOps) chunks.push(keys.slice(i, i + this.maxTxnOps));
    await inPool(chunks, TXNS_IN_FLIGHT, async (chunk) => {
      const success = chunk.map((k) => ({ request_range: { key: Buffer.from(recordKey(this.prefix, collection, k)), ...this.at } }));
      const res = await this.client.kv.txn({ compare: [], success });
      res.responses.forEach((r, i) => {
        const kv = r.response_range?.kvs[0];
        if (kv !== undefined) out.set(chunk[i]!, JSON.parse(kv.value.toString()) as RecordOf<C>);
      });
    });
    return out;
  }

  /**
   * A page of a collection in key order, optionally under a key prefix, keeping only records that
   * pass `keep`. The token is the last key returned (opaque to callers).
   */
  async page<C extends Collection>(collection: C, options: PageOptions<C>): Promise<Page<RecordOf<C>>> {
    const base = recordKey(this.prefix, collection, '');
    const from = options.keyPrefix === undefined ? base : recordKey(this.prefix, collection, options.keyPrefix);
    const end = prefixEnd(Buffer.from(from));
    const items: Array<RecordOf<C>> = [];
    let cursor = options.after ? `${base}${options.after}\u0000` : from;
    if (cursor < from) cursor = from;
    let lastKey = '';
    for (;;) {
      const batch = await this.range(Buffer.from(cursor), { range_end: end, limit: 500 });
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
    return Number((await this.range(from, { range_end: prefixEnd(from), count_only: true })).count);
  }
}

/** The view exactly at `seq`, read from etcd at the revision of that checkpoint. */
export class ViewSnapshot implements Snapshot {
  private reads: Reads;

  constructor(private pin: Pin, private readonly open: (revision: string, serializable: boolean) => Reads, private readonly repin: () => Promise<Pin>) {
    this.reads = open(pin.revision, true);
  }

  get seq(): number {
    return this.pin.seq;
  }

  private async attempt<T>(read: (reads: Reads) => Promise<T>): Promise<T> {
    try {
      return await read(this.reads);
    } catch (error) {
      if (!isStale(error)) throw error;
      this.pin = await this.repin();
      this.reads = this.open(this.pin.revision, false);
      return read(this.reads);
    }
  }

  get = <C extends Collection>(c: C, key: string) => this.attempt((r) => r.get(c, key));
  getMany = <C extends Collection>(c: C, keys: readonly string[]) => this.attempt((r) => r.getMany(c, keys));
  page = <C extends Collection>(c: C, options: PageOptions<C>) => this.attempt((r) => r.page(c, options));
  pendingCount = (region: string) => this.attempt((r) => r.pendingCount(region));
}

export class ViewReader {
  private pin: Pin = { seq: 0, revision: '0' };
  private waiters = new Set<{ seq: number; resolve: () => void }>();
  private watcher: Watcher | undefined;
  private readonly current: Reads;

  constructor(private readonly client: Etcd3, readonly prefix: string, private readonly maxTxnOps = DEFAULT_TXN_OPS) {
    this.current = new Reads(client, prefix, maxTxnOps);
  }

  /** The highest checkpoint seen (watched or read); no round trip. */
  get latest(): number {
    return this.pin.seq;
  }

  async start(): Promise<void> {
    if (this.watcher === undefined) {
      this.watcher = await this.client.watch().key(checkpointKey(this.prefix)).create();
      this.watcher.on('put', (kv) => this.advance({ seq: parseSeq(kv.value.toString()), revision: kv.mod_revision }));
    }
    await this.checkpoint();
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
    for (const w of this.waiters) w.resolve();
  }

  // The same sequence at a newer revision (a repair, a re-pin) is kept too: older revisions get compacted.
  private advance(pin: Pin): void {
    if (pin.seq < this.pin.seq || (pin.seq === this.pin.seq && BigInt(pin.revision) <= BigInt(this.pin.revision))) return;
    this.pin = pin;
    for (const w of this.waiters) if (w.seq <= pin.seq) w.resolve();
  }

  /**
   * Reads the checkpoint now. `atHeader` pins the revision of the read itself rather than the
   * checkpoint's own (which may be compacted): exact unless a batch's earlier transactions are in flight.
   */
  private async fresh(atHeader: boolean): Promise<Pin> {
    const res = await this.client.kv.range({ key: Buffer.from(checkpointKey(this.prefix)) });
    const kv = res.kvs[0];
    const pin = { seq: parseSeq(kv?.value.toString()), revision: atHeader || kv === undefined ? res.header.revision : kv.mod_revision };
    this.advance(pin);
    return this.pin;
  }

  async checkpoint(): Promise<number> {
    return (await this.fresh(false)).seq;
  }

  /** The view at the latest checkpoint seen, read consistently at its revision. */
  snapshot(): ViewSnapshot {
    return new ViewSnapshot(this.pin, (revision, serializable) => new Reads(this.client, this.prefix, this.maxTxnOps, revision, serializable), () => this.fresh(true));
  }

  /** Resolves true once the view reflects `seq`, false at the deadline. */
  async waitFor(seq: number, deadline: number): Promise<boolean> {
    if (seq <= this.pin.seq || seq <= (await this.checkpoint())) return true;
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

  // The newest state, for checks before a write (the fold has the last word on those).
  get = <C extends Collection>(c: C, key: string) => this.current.get(c, key);
  getMany = <C extends Collection>(c: C, keys: readonly string[]) => this.current.getMany(c, keys);
  page = <C extends Collection>(c: C, options: PageOptions<C>) => this.current.page(c, options);
  pendingCount = (region: string) => this.current.pendingCount(region);
  file = (id: string): Promise<FileRecord | undefined> => this.get('files', id);
  region = (id: string): Promise<RegionRecord | undefined> => this.get('regions', id);
  conflict = (id: string): Promise<ConflictRecord | undefined> => this.get('conflicts', id);
  rejected = (id: string): Promise<RejectedEntry | undefined> => this.get('rejected', id);
  pendingOf = (region: string, after: string, limit: number, keep?: (p: PendingChange) => boolean) =>
    this.page('pending', { keyPrefix: `${region}/`, after, limit, ...(keep ? { keep } : {}) });
}
