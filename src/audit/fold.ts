// Folding the stream up to a sequence, from the nearest usable snapshot (or a snapshot file) or from
// zero. The same reducers and the same stream reader as the projector, so a rebuild folds exactly
// what the projector folded.
import { fold } from '../../projections/runner.js';
import { emptyView, type View } from '../../projections/view.js';
import { readEntries } from '../nats/read.js';
import type { AuditContext } from './context.js';
import { readViewFile, viewOfEntries } from './entries.js';
import { usage } from './errors.js';
import { nearestSnapshot } from './snapshots.js';

export type Progress = (done: number, total: number) => void;

export type FoldOptions = {
  /** Start from the newest stored snapshot at or below the target (default true). */
  readonly useSnapshots?: boolean;
  /** Start from this view document instead (its sequence must be at or below the target). */
  readonly snapshotFile?: string;
  readonly onProgress?: Progress;
  readonly warn?: (message: string) => void;
  readonly batch?: number;
};

export type Folded = {
  readonly view: View;
  /** The snapshot the fold started from (its sequence), or null: from zero. */
  readonly fromSnapshot: { readonly seq: number; readonly source: string } | null;
  readonly eventsFolded: number;
};

/** Folds events (start, to] onto `start`, reporting progress per batch. */
export const foldRange = async (ctx: AuditContext, start: View, to: number, o: FoldOptions = {}): Promise<View> => {
  if (to <= start.seq) return start;
  const s = await ctx.nats();
  let view = start;
  const total = to - start.seq;
  o.onProgress?.(0, total);
  for await (const batch of readEntries(s.js, s.jsm, s.stream, { fromSeq: start.seq + 1, toSeq: to, batch: o.batch ?? 5000 })) {
    view = fold(view, batch);
    o.onProgress?.(view.seq - start.seq, total);
  }
  if (view.seq !== to) throw new Error(`the stream ended at ${view.seq} before sequence ${to}`);
  return view;
};

/** The view at sequence `target` (which the caller has checked is within the stream). */
export const foldTo = async (ctx: AuditContext, target: number, o: FoldOptions = {}): Promise<Folded> => {
  const warn = o.warn ?? (() => undefined);
  let start: View = emptyView();
  let fromSnapshot: Folded['fromSnapshot'] = null;
  if (o.snapshotFile !== undefined) {
    const { header, entries } = await readViewFile(o.snapshotFile);
    if (header.seq > target) throw usage(`--snapshot ${o.snapshotFile}: it is the view at ${header.seq}, past the target ${target}`);
    start = viewOfEntries(entries).view;
    fromSnapshot = { seq: header.seq, source: `file:${o.snapshotFile}` };
  } else if (o.useSnapshots !== false && target > 0 && ctx.hasEtcd) {
    const nearest = await nearestSnapshot(await ctx.etcd(), ctx.root, target, warn);
    if (nearest !== undefined) {
      start = viewOfEntries(nearest.entries).view;
      fromSnapshot = { seq: nearest.info.seq, source: `etcd:${ctx.snapshotsPrefix}` };
    }
  }
  const view = await foldRange(ctx, start, target, o);
  return { view, fromSnapshot, eventsFolded: target - start.seq };
};
