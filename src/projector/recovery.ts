// Brings the stored view to exactly its checkpoint before a leader projects on top of it.
// Keys written past the checkpoint (a batch cut short by a crash) are rolled back to their value at
// the checkpoint's revision; if etcd has compacted that revision, the view is rebuilt from the stream.
import { fold } from '../../projections/runner.js';
import { entryAt, viewEntries, viewFromEntries, type KeyWrite } from '../../projections/layout.js';
import { emptyView, type LogEntry, type View } from '../../projections/view.js';
import { FencedError, type Fence } from '../etcd/fence.js';
import type { ViewStore } from '../etcd/viewStore.js';
import type { Logger } from '../observability/log.js';
import type { Metrics, RebuildReason } from '../observability/metrics.js';

/** Decoded entries fromSeq..toSeq, in batches. */
export type Replay = (fromSeq: number, toSeq: number) => AsyncIterable<LogEntry[]>;

const collect = async (it: AsyncIterable<{ key: string; value: string }>): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for await (const { key, value } of it) out.set(key, value);
  return out;
};

const isCompacted = (error: unknown): boolean => error instanceof Error && /compacted/i.test(error.message);

/** Writes that turn `current` into `wanted`. */
export const diffWrites = (current: Map<string, string>, wanted: Map<string, string>): KeyWrite[] => {
  const writes: KeyWrite[] = [];
  for (const [key, value] of wanted) if (current.get(key) !== value) writes.push({ key, value });
  for (const key of current.keys()) if (!wanted.has(key)) writes.push({ key, value: null });
  return writes.sort((a, b) => (a.key < b.key ? -1 : 1));
};

/** The fold of `from` and the stream up to `toSeq`; throws the abort reason, between batches, once `signal` aborts. */
export const replayView = async (replay: Replay, toSeq: number, from: View = emptyView(), signal?: AbortSignal): Promise<View> => {
  let view = from;
  signal?.throwIfAborted();
  if (toSeq > view.seq) {
    for await (const batch of replay(view.seq + 1, toSeq)) {
      signal?.throwIfAborted();
      view = fold(view, batch);
    }
  }
  return view;
};

export type Recovered = { view: View; repaired: number; rebuilt: boolean; warm: boolean };

export const recoverView = async (
  store: ViewStore,
  fence: Fence,
  replay: Replay,
  streamLastSeq: number,
  log: Logger,
  metrics?: Metrics,
  /** A follower's view, folded up to some committed checkpoint: recovery then reads no view from etcd. */
  warm?: View,
  /**
   * Stops a replay between batches (the abort reason is thrown). Recovery only brings the view back
   * to its checkpoint, with fenced writes, so the next leader's recovery completes what this one left.
   */
  signal?: AbortSignal,
): Promise<Recovered> => {
  const checkpoint = await store.readCheckpoint();
  const seq = checkpoint?.seq ?? 0;

  const rebuild = async (reason: RebuildReason): Promise<Recovered> => {
    const toSeq = Math.min(seq, streamLastSeq);
    log.warn({ checkpoint: seq, toSeq, reason }, 'rebuilding the view from the stream');
    metrics?.rebuilds.inc({ reason });
    const view = await replayView(replay, toSeq, emptyView(), signal);
    const writes = diffWrites(await collect(store.scan()), viewEntries(store.prefix, view));
    if (!(await store.repair(writes, fence))) throw new FencedError();
    return { view, repaired: writes.length, rebuilt: true, warm: false };
  };

  if (seq > streamLastSeq) return rebuild('checkpoint ahead of the stream');

  const dirtyKeys = async () => collect(store.scan({ minModRevision: String(BigInt(checkpoint?.revision ?? '0') + 1n) }));
  if (warm !== undefined && warm.seq <= seq) {
    // The stored view is the fold up to the checkpoint: catch the warm view up to it, and put back
    // from memory any key a cut-short batch wrote past it.
    const view = await replayView(replay, seq, warm, signal);
    const writes = [...(await dirtyKeys()).keys()].map((key) => ({ key, value: entryAt(store.prefix, view, key) }));
    if (writes.length > 0 && !(await store.repair(writes, fence))) throw new FencedError();
    if (writes.length > 0) log.warn({ checkpoint: seq, keys: writes.length }, 'rolled back view keys written past the checkpoint');
    return { view, repaired: writes.length, rebuilt: false, warm: true };
  }

  const dirty = await dirtyKeys();
  if (dirty.size === 0) {
    const { view, unknownKeys } = viewFromEntries(store.prefix, await collect(store.scan()));
    if (unknownKeys.length > 0) log.warn({ unknownKeys: unknownKeys.slice(0, 10), count: unknownKeys.length }, 'unknown keys under the view prefix');
    return { view, repaired: 0, rebuilt: false, warm: false };
  }
  if (checkpoint === undefined) {
    const writes = [...dirty.keys()].map((key) => ({ key, value: null }));
    if (!(await store.repair(writes, fence))) throw new FencedError();
    log.warn({ keys: writes.length }, 'removed view keys written before any checkpoint');
    return { view: emptyView(), repaired: writes.length, rebuilt: false, warm: false };
  }
  try {
    const atCheckpoint = await collect(store.scan({ revision: checkpoint.revision }));
    const writes = [...dirty.keys()].map((key) => ({ key, value: atCheckpoint.get(key) ?? null }));
    if (!(await store.repair(writes, fence))) throw new FencedError();
    log.warn({ checkpoint: seq, keys: writes.length }, 'rolled back view keys written past the checkpoint');
    return { view: viewFromEntries(store.prefix, atCheckpoint).view, repaired: writes.length, rebuilt: false, warm: false };
  } catch (error) {
    if (!isCompacted(error)) throw error;
    return rebuild('checkpoint revision compacted');
  }
};
