// Rebuilds: the fold of the stream up to a point, laid out in a place of its own (an etcd prefix or
// a file) so that the live view and the projecting leader are never touched; and the one exception,
// repairing the live view, which writes only as the elected leader, through the fenced path.
import { hostname } from 'node:os';
import type { KeyWrite } from '../../projections/layout.js';
import { ViewStore } from '../etcd/viewStore.js';
import { campaign } from '../leadership/election.js';
import type { AuditContext } from './context.js';
import { diffEntries, type RecordDiff } from './diff.js';
import {
  CHECKPOINT_ENTRY, checkPrefix, checkReplaceable, entriesOfView, keysUnder, entryWrites, prefixesOverlap, readEtcdEntries, replaceEtcdEntries,
  summarize, writeViewFile, type ViewSummary,
} from './entries.js';
import { refused } from './errors.js';
import { foldTo, type FoldOptions } from './fold.js';
import { resolvePoint, storedMsOf, streamLast, type Point } from './points.js';
import { writeSnapshot } from './snapshots.js';

export type RebuildTarget =
  | { readonly kind: 'etcd'; readonly prefix?: string }
  | { readonly kind: 'file'; readonly path: string };

export type RebuildOptions = FoldOptions & { readonly at?: Point; readonly target: RebuildTarget };

/** What every fold up to a point reports (rebuilds and snapshots). */
type FoldedSummary = ViewSummary & {
  readonly target: string;
  /** The last event folded: its sequence and store time. */
  readonly at: { readonly seq: number; readonly storedAt: string | null };
  readonly streamLastSeq: number;
  readonly fromSnapshot: { readonly seq: number; readonly source: string } | null;
  readonly eventsFolded: number;
  readonly seconds: number;
};

export type RebuildSummary = FoldedSummary & { readonly keysWritten: number };

export const defaultRebuildPrefix = (ctx: AuditContext, seq: number): string => `${ctx.root}/rebuilds/seq-${seq}`;

/** A rebuild prefix must share no key with the live view, the election or the snapshots. */
export const checkSeparatePrefix = (ctx: AuditContext, prefix: string): string => {
  checkPrefix(prefix, '--into');
  for (const [name, reserved] of [
    ['the live view', ctx.viewPrefix],
    ['the projector election', `${ctx.root}/election`],
    ['the snapshots', ctx.snapshotsPrefix],
  ] as const) {
    if (prefixesOverlap(prefix, reserved)) {
      throw refused(`--into ${prefix}: overlaps ${name} (${reserved}); a rebuild goes to a prefix of its own (use jzse repair for the live view)`);
    }
  }
  return prefix;
};

const isoOrNull = async (ctx: AuditContext, seq: number): Promise<string | null> =>
  seq === 0 ? null : new Date(await storedMsOf(await ctx.nats(), seq)).toISOString();

export const rebuild = async (ctx: AuditContext, o: RebuildOptions): Promise<RebuildSummary> => {
  const started = performance.now();
  if (o.target.kind === 'etcd' && o.target.prefix !== undefined) {
    // Refuse before folding, not after.
    checkSeparatePrefix(ctx, o.target.prefix);
    checkReplaceable(o.target.prefix, await keysUnder(await ctx.etcd(), o.target.prefix));
  }
  const s = await ctx.nats();
  const last = await streamLast(s);
  const seq = o.at === undefined ? last : await resolvePoint(s, o.at, '--at', last);
  const folded = await foldTo(ctx, seq, o);
  const entries = entriesOfView(folded.view);
  let target: string;
  let keysWritten: number;
  if (o.target.kind === 'file') {
    await writeViewFile(o.target.path, seq, entries);
    target = `file:${o.target.path}`;
    keysWritten = entries.size;
  } else {
    const prefix = checkSeparatePrefix(ctx, o.target.prefix ?? defaultRebuildPrefix(ctx, seq));
    keysWritten = await replaceEtcdEntries(await ctx.etcd(), prefix, entries, ctx.limits);
    target = `etcd:${prefix}`;
  }
  return {
    ...summarize(folded.view, entries),
    target,
    at: { seq, storedAt: await isoOrNull(ctx, seq) },
    streamLastSeq: last,
    fromSnapshot: folded.fromSnapshot,
    eventsFolded: folded.eventsFolded,
    keysWritten,
    seconds: (performance.now() - started) / 1000,
  };
};

export type RepairOptions = FoldOptions & {
  /** The candidate name the CLI campaigns under (default jzse-cli:<host>:<pid>). */
  readonly candidate?: string;
  /** How long to wait to be elected once campaigning (default 3 s). */
  readonly electionTimeoutMs?: number;
  /** Compute and report the differences, write nothing (no election either). */
  readonly dryRun?: boolean;
};

export type RepairSummary = ViewSummary & {
  readonly target: string;
  readonly checkpointBefore: number | undefined;
  readonly streamLastSeq: number;
  readonly fromSnapshot: { readonly seq: number; readonly source: string } | null;
  readonly differences: readonly RecordDiff[];
  readonly keysWritten: number;
  readonly dryRun: boolean;
  readonly seconds: number;
};

/** The candidates in the projector election, oldest (the leader) first. */
export const electionCandidates = async (ctx: AuditContext): Promise<Array<{ key: string; id: string; createRevision: string }>> => {
  const res = await (await ctx.etcd()).getAll().prefix(ctx.electionPrefix).exec();
  return res.kvs
    .map((kv) => ({ key: kv.key.toString(), id: kv.value.toString(), createRevision: kv.create_revision }))
    .sort((a, b) => (BigInt(a.createRevision) < BigInt(b.createRevision) ? -1 : 1));
};

/**
 * Makes the live view equal to the fold of the whole stream. Refused while anyone holds (or waits in)
 * the projector election: the CLI campaigns itself and writes only once elected, every transaction
 * compared against its own fence (ViewStore.repair), the checkpoint rewritten last. So a coordinator
 * that starts meanwhile waits behind it, and if the CLI's lease is lost halfway its writes are refused.
 */
export const repairLive = async (ctx: AuditContext, o: RepairOptions = {}): Promise<RepairSummary> => {
  const started = performance.now();
  const client = await ctx.etcd();
  const holders = await electionCandidates(ctx);
  if (holders.length > 0) {
    const [leader] = holders;
    throw refused(
      `a leader holds the projector election (${leader?.id ?? '?'}, ${holders.length} candidate${holders.length === 1 ? '' : 's'}): ` +
        'the live view is written only by the elected leader. Stop every coordinator, run jzse repair, then start them again ' +
        '(or compare with jzse verify / jzse rebuild without touching the live view)',
    );
  }
  const fold = async () => {
    const s = await ctx.nats();
    const last = await streamLast(s);
    const folded = await foldTo(ctx, last, o);
    return { last, folded, wanted: entriesOfView(folded.view) };
  };
  const summary = (f: Awaited<ReturnType<typeof fold>>, current: Map<string, string>, keysWritten: number): RepairSummary => ({
    ...summarize(f.folded.view, f.wanted),
    target: `etcd:${ctx.viewPrefix}`,
    checkpointBefore: (() => {
      const raw = current.get(CHECKPOINT_ENTRY);
      try {
        return raw === undefined ? undefined : (JSON.parse(raw) as { seq: number }).seq;
      } catch {
        return undefined;
      }
    })(),
    streamLastSeq: f.last,
    fromSnapshot: f.folded.fromSnapshot,
    differences: diffEntries(current, f.wanted),
    keysWritten,
    dryRun: o.dryRun === true,
    seconds: (performance.now() - started) / 1000,
  });

  if (o.dryRun === true) {
    const f = await fold();
    return summary(f, await readEtcdEntries(client, ctx.viewPrefix), 0);
  }

  const candidate = o.candidate ?? `jzse-cli:${hostname()}:${process.pid}`;
  const giveUp = new AbortController();
  const timer = setTimeout(() => giveUp.abort(), o.electionTimeoutMs ?? 3000);
  const leadership = await campaign(client, ctx.root, candidate, ctx.config.etcd.lease_ttl, giveUp.signal).finally(() => clearTimeout(timer));
  if (leadership === undefined) {
    throw refused('another candidate entered the projector election first; nothing was written (stop every coordinator and retry)');
  }
  try {
    const f = await fold();
    const store = new ViewStore(client, ctx.viewPrefix, ctx.limits);
    const current = await readEtcdEntries(client, ctx.viewPrefix);
    // The checkpoint goes last and is always rewritten, even if unchanged: its mod revision must end
    // above every repaired key, or the next leader's recovery would roll the repaired keys back.
    const writes: KeyWrite[] = entryWrites(current, f.wanted)
      .filter((w) => w.key !== CHECKPOINT_ENTRY)
      .map((w) => ({ key: `${ctx.viewPrefix}/${w.key}`, value: w.value }));
    writes.push({ key: `${ctx.viewPrefix}/${CHECKPOINT_ENTRY}`, value: f.wanted.get(CHECKPOINT_ENTRY) ?? null });
    if (leadership.lost.aborted || !(await store.repair(writes, leadership.fence))) {
      throw refused('lost the projector election during the repair: the fence refused the remaining writes; run jzse verify, then jzse repair again');
    }
    return summary(f, current, writes.length);
  } finally {
    await leadership.resign();
  }
};

export type SnapshotOptions = FoldOptions & { readonly at?: Point; readonly out?: string; readonly chunkBytes?: number };

export type SnapshotSummary = FoldedSummary & {
  /** False when an identical snapshot was already stored. */
  readonly written: boolean;
  readonly chunks: number | null;
  readonly bytes: number | null;
};

/**
 * Stores the view at a sequence (default: the stream's last) as a snapshot in etcd, or as a view
 * document file. Built incrementally from the nearest older snapshot.
 */
export const takeSnapshot = async (ctx: AuditContext, o: SnapshotOptions = {}): Promise<SnapshotSummary> => {
  const started = performance.now();
  const s = await ctx.nats();
  const last = await streamLast(s);
  const seq = o.at === undefined ? last : await resolvePoint(s, o.at, '--at', last);
  const folded = await foldTo(ctx, seq, o);
  const entries = entriesOfView(folded.view);
  const base = {
    ...summarize(folded.view, entries),
    at: { seq, storedAt: await isoOrNull(ctx, seq) },
    streamLastSeq: last,
    fromSnapshot: folded.fromSnapshot,
    eventsFolded: folded.eventsFolded,
  };
  if (o.out !== undefined) {
    await writeViewFile(o.out, seq, entries);
    return { ...base, target: `file:${o.out}`, written: true, chunks: null, bytes: null, seconds: (performance.now() - started) / 1000 };
  }
  const chunkBytes = o.chunkBytes ?? Math.min(1024 * 1024, Math.floor(ctx.limits.maxTxnBytes * 0.75));
  const { info, written } = await writeSnapshot(await ctx.etcd(), ctx.root, seq, entries, chunkBytes);
  return { ...base, target: `etcd:${ctx.snapshotsPrefix}`, written, chunks: info.chunks, bytes: info.bytes, seconds: (performance.now() - started) / 1000 };
};
