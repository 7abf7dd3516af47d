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
  readonly checkpoint: number | undefined;
  readonly streamLastSeq: number;
  /** Events stored but not yet in the view (the projection lag). */
  readonly lag: number;
  readonly files: number;
  readonly regions: readonly RegionHealth[];
  readonly conflicts: { readonly total: number; readonly open: number; readonly openIds: readonly string[] };
  readonly rejected: { readonly total: number; readonly latest: ReadonlyArray<Pick<RejectedEntry, 'key' | 'seq' | 'type' | 'subject' | 'reason'>> };
  readonly snapshots: readonly number[];
};

export const values = async <T>(ctx: AuditContext, collection: 'regions' | 'conflicts' | 'rejected'): Promise<T[]> => {
  const kvs = await (await ctx.etcd()).getAll().prefix(`${ctx.viewPrefix}/${collection}/`).strings();
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

const count = async (ctx: AuditContext, prefix: string): Promise<number> => (await ctx.etcd()).getAll().prefix(prefix).count();

export const status = async (ctx: AuditContext, options: { latestRejected?: number } = {}): Promise<Status> => {
  const client = await ctx.etcd();
  const s = await ctx.nats();
  const [candidates, last, checkpointRaw, regions, conflicts, rejected, files, snapshots] = await Promise.all([
    electionCandidates(ctx),
    streamLast(s),
    client.get(`${ctx.viewPrefix}/checkpoint`).string(),
    values<RegionRecord>(ctx, 'regions'),
    values<ConflictRecord>(ctx, 'conflicts'),
    values<RejectedEntry>(ctx, 'rejected'),
    count(ctx, `${ctx.viewPrefix}/files/`),
    listSnapshots(client, ctx.root),
  ]);
  const checkpoint = checkpointRaw === null ? undefined : seqOfEntries(new Map([['checkpoint', checkpointRaw]]));
  const health = await Promise.all(
    regions.sort((a, b) => (a.id < b.id ? -1 : 1)).map(async (r): Promise<RegionHealth> => ({
      id: r.id,
      name: r.name,
      active: r.active,
      state: r.status?.state ?? 'unknown',
      syncLag: r.status?.syncLag ?? 0,
      pending: await count(ctx, recordKey(ctx.viewPrefix, 'pending', `${r.id}/`)),
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
    files,
    regions: health,
    conflicts: { total: conflicts.length, open: open.length, openIds: open.slice(0, 20).map((c) => c.id) },
    rejected: { total: rejected.length, latest: latest.map((r) => ({ key: r.key, seq: r.seq, type: r.type, subject: r.subject, reason: r.reason })) },
    snapshots: snapshots.map((i) => i.seq),
  };
};
