// Verify: the live view must be exactly the fold of the stream up to the view's own checkpoint.
// The live view is read at a single etcd revision, so a leader committing meanwhile does not make
// it look torn; the fold starts from zero (a verification does not trust snapshots unless asked).
import type { AuditContext } from './context.js';
import { diffEntries, type RecordDiff } from './diff.js';
import { digestOf, entriesOfView, readEtcdEntries, seqOfEntries } from './entries.js';
import { foldTo, type FoldOptions } from './fold.js';
import { streamLast } from './points.js';

export type VerifyOptions = FoldOptions & {
  /** Also require the view to reflect the whole stream (checkpoint = the stream's last sequence). */
  readonly strict?: boolean;
};

export type VerifyResult = {
  readonly equal: boolean;
  readonly viewPrefix: string;
  /** The live view's checkpoint, undefined if missing or unreadable. */
  readonly checkpoint: number | undefined;
  readonly streamLastSeq: number;
  /** Events stored but not yet in the view. */
  readonly lag: number;
  /** The sequence the fold was taken at. */
  readonly foldedTo: number;
  readonly live: { readonly digest: string; readonly entries: number };
  readonly fold: { readonly digest: string; readonly entries: number };
  readonly differences: readonly RecordDiff[];
  /** Problems beyond record differences (a checkpoint past the stream, lag under --strict). */
  readonly problems: readonly string[];
  readonly fromSnapshot: { readonly seq: number; readonly source: string } | null;
};

export const verifyLive = async (ctx: AuditContext, o: VerifyOptions = {}): Promise<VerifyResult> => {
  const live = await readEtcdEntries(await ctx.etcd(), ctx.viewPrefix);
  const last = await streamLast(await ctx.nats());
  const checkpoint = seqOfEntries(live);
  const problems: string[] = [];
  if (live.size === 0 && last === 0) {
    // Nothing stored and nothing projected: trivially in step.
    const empty = { digest: digestOf(live), entries: 0 };
    return { equal: true, viewPrefix: ctx.viewPrefix, checkpoint: undefined, streamLastSeq: 0, lag: 0, foldedTo: 0, live: empty, fold: empty, differences: [], problems, fromSnapshot: null };
  }
  if (checkpoint === undefined) problems.push(`the live view has no readable checkpoint (${ctx.viewPrefix}/checkpoint): folding the whole stream`);
  if (checkpoint !== undefined && checkpoint > last) problems.push(`the live checkpoint ${checkpoint} is beyond the stream's last sequence ${last}`);
  const foldedTo = checkpoint === undefined ? last : Math.min(checkpoint, last);
  const lag = last - (checkpoint ?? 0);
  if (o.strict === true && lag > 0) problems.push(`the live view lags the stream by ${lag} events (checkpoint ${checkpoint ?? 'none'}, stream ${last})`);
  const folded = await foldTo(ctx, foldedTo, { useSnapshots: false, ...o });
  const wanted = entriesOfView(folded.view);
  const differences = diffEntries(live, wanted);
  return {
    equal: differences.length === 0 && problems.length === 0,
    viewPrefix: ctx.viewPrefix,
    checkpoint,
    streamLastSeq: last,
    lag: Math.max(0, lag),
    foldedTo,
    live: { digest: digestOf(live), entries: live.size },
    fold: { digest: digestOf(wanted), entries: wanted.size },
    differences,
    problems,
    fromSnapshot: folded.fromSnapshot,
  };
};
