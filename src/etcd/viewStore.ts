// The view in etcd. Writes are fenced by the leader's election key; a batch's last transaction
// moves the checkpoint, compare-and-set against the previous one. A batch larger than one etcd
// transaction is written in several; if the writer dies in between, recovery rolls the keys
// written past the checkpoint back to their value at the checkpoint's revision.
import type { Etcd3 } from 'etcd3';
import type { ICompare, IRequestOp } from 'etcd3/lib/rpc.js';
import { failpoint } from '../util/failpoint.js';
import { canonicalJson, checkpointKey, type KeyWrite } from '../../projections/layout.js';
import type { Fence, FenceRefusal } from './fence.js';

export type { Fence } from './fence.js';
export type Checkpoint = { readonly seq: number; readonly revision: string };
export type CommitResult = 'committed' | FenceRefusal;
export type Limits = { readonly maxTxnOps: number; readonly maxTxnBytes: number };

const PAGE = 2000;
const IN_FLIGHT = 8;

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export const prefixEnd = (prefix: Buffer): Buffer => {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
};

const opBytes = (op: IRequestOp): number =>
  (op.request_put?.key?.length ?? op.request_delete_range?.key?.length ?? 0) + (op.request_put?.value?.length ?? 0) + 16;

const toOp = (w: KeyWrite): IRequestOp =>
  w.value === null
    ? { request_delete_range: { key: Buffer.from(w.key) } }
    : { request_put: { key: Buffer.from(w.key), value: Buffer.from(w.value) } };

export class ViewStore {
  constructor(
    private readonly client: Etcd3,
    readonly prefix: string,
    private readonly limits: Limits,
    /** Where each commit records which leader term wrote it (outside the view; audited by the chaos harness). */
    readonly fencingKey?: string,
  ) {}

  async readCheckpoint(): Promise<Checkpoint | undefined> {
    const res = await this.client.kv.range({ key: Buffer.from(checkpointKey(this.prefix)) });
    const kv = res.kvs[0];
    if (kv === undefined) return undefined;
    return { seq: (JSON.parse(kv.value.toString()) as { seq: number }).seq, revision: kv.mod_revision };
  }

  /** Every key under the prefix, paged, at `revision` (or now). mod_revision comes along. */
  async *scan(options: { revision?: string; minModRevision?: string } = {}): AsyncGenerator<{ key: string; value: string; modRevision: string }> {
    const root = Buffer.from(`${this.prefix}/`);
    const end = prefixEnd(root);
    let from = root;
    for (;;) {
      const res = await this.client.kv.range({
        key: from,
        range_end: end,
        limit: PAGE,
        ...(options.revision === undefined ? {} : { revision: options.revision }),
        ...(options.minModRevision === undefined ? {} : { min_mod_revision: options.minModRevision }),
      });
      for (const kv of res.kvs) yield { key: kv.key.toString(), value: kv.value.toString(), modRevision: kv.mod_revision };
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) return;
      from = Buffer.concat([last.key, Buffer.from([0])]);
      if (options.revision === undefined) options = { ...options, revision: res.header.revision };
    }
  }

  /** Holds only for the leader: its key still exists, and no candidate's key is older than it. */
  private fenceCompare(fence: Fence): ICompare[] {
    const election = Buffer.from(fence.electionPrefix);
    return [
      { key: Buffer.from(fence.key), target: 'Create', result: 'Equal', create_revision: fence.createRevision },
      {
        key: election,
        range_end: prefixEnd(election),
        target: 'Create',
        result: 'Greater',
        create_revision: String(BigInt(fence.createRevision) - 1n),
      },
    ];
  }

  private checkpointCompare(previous: number): ICompare {
    const key = Buffer.from(checkpointKey(this.prefix));
    return previous === 0
      ? { key, target: 'Create', result: 'Equal', create_revision: 0 }
      : { key, target: 'Value', result: 'Equal', value: Buffer.from(canonicalJson({ seq: previous })) };
  }

  private fits(ops: readonly IRequestOp[]): boolean {
    return ops.length <= this.limits.maxTxnOps && ops.reduce((sum, op) => sum + opBytes(op), 0) <= this.limits.maxTxnBytes;
  }

  private chunk(ops: IRequestOp[]): IRequestOp[][] {
    const chunks: IRequestOp[][] = [];
    let current: IRequestOp[] = [];
    let bytes = 0;
    for (const op of ops) {
      const size = opBytes(op);
      if (current.length > 0 && (current.length >= this.limits.maxTxnOps || bytes + size > this.limits.maxTxnBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(op);
      bytes += size;
    }
    chunks.push(current);
    return chunks;
  }

  private async txn(compare: ICompare[], success: IRequestOp[]): Promise<boolean> {
    return (await this.client.kv.txn({ compare, success })).succeeded;
  }

  /**
   * Writes a batch and moves the checkpoint from `from` to `to`. Every transaction carries the fence,
   * so a deposed leader changes nothing; the last one carries the checkpoint compare-and-set.
   */
  async commit(writes: readonly KeyWrite[], fence: Fence, from: number, to: number): Promise<CommitResult> {
    // The checkpoint (and fencing record) must be in the last transaction, committed after all the
    // others: a checkpoint that lands earlier would vouch for writes not yet made.
    const tail: IRequestOp[] = [{ request_put: { key: Buffer.from(checkpointKey(this.prefix)), value: Buffer.from(canonicalJson({ seq: to })) } }];
    if (this.fencingKey !== undefined) {
      const record = { seq: to, leader: fence.key, term: fence.createRevision };
      tail.push({ request_put: { key: Buffer.from(this.fencingKey), value: Buffer.from(canonicalJson(record)) } });
    }
    const chunks = writes.length === 0 ? [] : this.chunk(writes.map(toOp));
    const lastData = chunks.pop() ?? [];
    let last = [...lastData, ...tail];
    if (!this.fits(last)) {
      chunks.push(lastData);
      last = tail;
    }
    for (let i = 0; i < chunks.length; i += IN_FLIGHT) {
      const results = await Promise.all(chunks.slice(i, i + IN_FLIGHT).map((c) => this.txn(this.fenceCompare(fence), c)));
      if (results.includes(false)) return 'fenced';
      failpoint('view.commit.between-transactions');
    }
    if (await this.txn([...this.fenceCompare(fence), this.checkpointCompare(from)], last)) return 'committed';
    return (await this.holds(fence)) ? 'checkpoint-moved' : 'fenced';
  }

  /** Writes without moving the checkpoint (repairs), fenced. */
  async repair(writes: readonly KeyWrite[], fence: Fence): Promise<boolean> {
    for (const c of this.chunk(writes.map(toOp))) {
      if (c.length > 0 && !(await this.txn(this.fenceCompare(fence), c))) return false;
    }
    return true;
  }

  async holds(fence: Fence): Promise<boolean> {
    return (await this.client.kv.txn({ compare: this.fenceCompare(fence), success: [] })).succeeded;
  }
}
