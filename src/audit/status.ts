// Status: who leads, how far the view trails the stream, the regions' health and sync lag, open
// conflicts and rejected events — read from etcd and the stream, nothing folded.
import { recordKey } from '../../projections/layout.js';
import type { ConflictRecord, RegionRecord, RejectedEntry } from '../../projections/view.js';
import type { AuditContext } from './context.js';
import { seqOfEntries } from './entries.js';
import { electionCandidates } from './rebuild.js';
import { listSnapshots } from './snapshots.js';
import { streamLast } from './points.js';

export type RegionHealth = {
  readonly id: string;
  readonly name: string;
  readonly active: boolean;
  readonly state: string;
  /** The sync lag the region reports in its heartbeats. */
  readonly syncLag: number;
  /** Versions the coordinator still waits for this region to apply. */
  readonly pending: number;
  readonly loadLevel: number;
  readonly storageUsed: number;
  readonly lastSeenAt: string;
};

export type Status = {
  readonly stream: string;
  readonly viewPrefix: string;
  readonly leader: { readonly id: string; readonly key: string; readonly createRevision: string } | null;
  readonly candidates: number;
  /** The view's checkpoint: every event up to it is in the view (read first; see progress()). */
  readonly checkpoint: number | undefined;
  /** The stream's last sequence, read after the checkpoint: never below it unless the stream lost events. */
  readonly streamLastSeq: number;
  /** Events stored but not yet in the view (the projection lag), at least 0. */
  readonly lag: number;
  /**
   * The checkpoint is past the stream's end even on a re-read: the view holds events the stream no
   * longer has (lost, or the stream recreated). `jzse verify` fails on it; a new leader rebuilds.
   */
  readonly checkpointAhead: boolean;
  readonly files: number;
  readonly regions: readonly RegionHealth[];
  readonly conflicts: { readonly total: number; readonly open: number; readonly openIds: readonly string[] };
  readonly rejected: { readonly total: number; readonly latest: ReadonlyArray<Pick<RejectedEntry, 'key' | 'seq' | 'type' | 'subject' | 'reason'>> };
  readonly snapshots: readonly number[];
};

/** The view's records of a collection, as etcd held them at `revision` (default: now). */
export const values = async <T>(ctx: AuditContext, collection: 'regions' | 'conflicts' | 'rejected', revision?: string): Promise<T[]> => {
  const all = (await ctx.etcd()).getAll().prefix(`${ctx.viewPrefix}/${collection}/`);
  const kvs = await (revision === undefined ? all : all.revision(revision)).strings();
  const out: T[] = [];
  for (const v of Object.values(kvs)) {
    try {
      out.push(JSON.parse(v) as T);
    } catch {
      // a corrupt record: jzse verify names it
    }
  }
  return out;
};

const count = async (ctx: AuditContext, prefix: string, revision: string): Promise<number> =>
  (await ctx.etcd()).getAll().prefix(prefix).revision(revision).count();

export type Progress = { readonly checkpoint: number | undefined; readonly streamLastSeq: number; readonly checkpointAhead: boolean };

/**
 * The checkpoint, then the stream's last sequence, in that order. A leader moves the checkpoint only
 * to events already stored, so the end read afterwards is at least the checkpoint; read at once (or
 * the other way round), a batch committed in between showed checkpoint 11142 of a stream ending at
 * 11141. Should the checkpoint still be ahead, the end is read again (up to `rereads` times) before
 * that is reported as what it then is: a stream that lost events the view holds.
 */
export const progress = async (
  readCheckpoint: () => Promise<number | undefined>,
  readStreamLast: () => Promise<number>,
  rereads = 2,
): Promise<Progress> => {
  const checkpoint = await readCheckpoint();
  let streamLastSeq = await readStreamLast();
  for (let i = 0; i < rereads && checkpoint !== undefined && checkpoint > streamLastSeq; i++) streamLastSeq = await readStreamLast();
  return { checkpoint, streamLastSeq, checkpointAhead: checkpoint !== undefined && checkpoint > streamLastSeq };
};

export const status = async (ctx: AuditContext, options: { latestRejected?: number } = {}): Promise<Status> => {
  const client = await ctx.etcd();
  const s = await ctx.nats();
  // The view's records are read at the checkpoint's etcd revision: files, regions, pending and
  // conflicts are the view at that checkpoint, not a mix of it and the batches committed since.
  let revision = '0';
  const { checkpoint, streamLastSeq: last, checkpointAhead } = await progress(
    async () => {
      const res = await client.get(`${ctx.viewPrefix}/checkpoint`).exec();
      revision = res.header.revision;
      const raw = res.kvs[0]?.value.toString();
      return raw === undefined ? undefined : seqOfEntries(new Map([['checkpoint', raw]]));
    },
    () => streamLast(s),
  );
  const [candidates, regions, conflicts, rejected, files, snapshots] = await Promise.all([
    electionCandidates(ctx),
    values<RegionRecord>(ctx, 'regions', revision),
    values<ConflictRecord>(ctx, 'conflicts', revision),
    values<RejectedEntry>(ctx, 'rejected', revision),
    count(ctx, `${ctx.viewPrefix}/files/`, revision),
    listSnapshots(client, ctx.root),
  ]);
  const health = await Promise.all(
    regions.sort((a, b) => (a.id < b.id ? -1 : 1)).map(async (r): Promise<RegionHealth> => ({
      id: r.id,
      name: r.name,
      active: r.active,
      state: r.status?.state ?? 'unknown',
      syncLag: r.status?.syncLag ?? 0,
      pending: await count(ctx, recordKey(ctx.viewPrefix, 'pending', `${r.id}/`), revision),
      loadLevel: r.status?.loadLevel ?? 0,
      storageUsed: r.status?.storageUsed ?? 0,
      lastSeenAt: r.lastSeenAt,
    })),
  );
  const open = conflicts.filter((c) => c.status === 'open').sort((a, b) => a.detectedSeq - b.detectedSeq);
  const latest = rejected.sort((a, b) => b.seq - a.seq).slice(0, options.latestRejected ?? 5);
  const [leader] = candidates;
  return {
    stream: s.stream,
    viewPrefix: ctx.viewPrefix,
    leader: leader === undefined ? null : { id: leader.id, key: leader.key, createRevision: leader.createRevision },
    candidates: candidates.length,
    checkpoint,
    streamLastSeq: last,
    lag: Math.max(0, last - (checkpoint ?? 0)),
    checkpointAhead,
    files,
    regions: health,
    conflicts: { total: conflicts.length, open: open.length, openIds: open.slice(0, 20).map((c) => c.id) },
    rejected: { total: rejected.length, latest: latest.map((r) => ({ key: r.key, seq: r.seq, type: r.type, subject: r.subject, reason: r.reason })) },
    snapshots: snapshots.map((i) => i.seq),
  };
};
