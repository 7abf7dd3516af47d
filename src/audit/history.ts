// One file's life: every event that named it or changed anything about it, with what the fold made
// of it — new versions and who wrote them, vector clocks, conflicts and their resolution, each
// region's copy (synced / stale) and what regions still had to apply, after every step. It folds
// the whole stream (the outcome of an event depends on everything before it), so it holds the view in
// memory like a rebuild does; the history itself is one file's events.
import { describeRejection } from '../../projections/rejection.js';
import { Runner } from '../../projections/runner.js';
import { normalizeClock } from '../../projections/vectorClock.js';
import { emptyView, pendingKey, type ConflictRecord, type FileRecord, type View, type VersionSnapshot } from '../../projections/view.js';
import type { CoordinatorEvent, VectorClock } from '../../streams/events.js';
import { readEntries } from '../nats/read.js';
import type { StreamAccess } from './context.js';
import { notFound } from './errors.js';
import type { Progress } from './fold.js';
import { streamLast } from './points.js';
import { claimedPublisherOf, filesOf, shownPrincipal } from './replay.js';

export type Outcome = 'applied' | 'conflict' | 'acked' | 'requested' | 'no-op' | 'rejected' | 'partial' | 'other';

export type Version = { readonly eventId: string; readonly region: string; readonly seq: number; readonly at: string; readonly clock: VectorClock; readonly deleted: boolean };

export type FileState = {
  readonly path: string;
  readonly size: number;
  readonly checksum: string;
  readonly deleted: boolean;
  /** Change events applied so far (the file's version number). */
  readonly versions: number;
  readonly clock: VectorClock;
  /** The event whose content the file holds, its region, effective time and proven principal (null: unproven). */
  readonly version: { readonly eventId: string; readonly region: string; readonly seq: number; readonly at: string; readonly principal: string | null };
  readonly primary: string;
  readonly locations: ReadonlyArray<{ readonly region: string; readonly state: string; readonly clock: VectorClock; readonly lastSyncAt: string | null }>;
  /** Regions that still have to apply the current version. */
  readonly pending: readonly string[];
};

export type ConflictInfo = {
  readonly id: string;
  readonly strategy: string;
  readonly status: string;
  readonly local: Version;
  readonly remote: Version;
  readonly resolution: ConflictRecord['resolution'];
};

export type HistoryEntry = {
  readonly seq: number;
  readonly storedAt: string;
  readonly eventId: string | null;
  readonly type: string | null;
  /** Who the event claims published it: region, operator, or the coordinator (sync.requested). */
  readonly by: string | null;
  /** Who published it, as proven by its subject or the coordinator's header; null: unproven (predates authentication). */
  readonly principal: string | null;
  /** The event's own timestamp. */
  readonly at: string | null;
  /** The clock the event carries for this file (a change's clock, or the acked version). */
  readonly clock: VectorClock | null;
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly conflicts?: readonly ConflictInfo[];
  /** The file after this event, when the event changed it (or its pending entries). */
  readonly file?: FileState;
  /** Short human-readable effects, e.g. "version 3", "r2 synced", "pending for r2, r3". */
  readonly effects: readonly string[];
};

export type FileHistory = {
  readonly fileId: string;
  readonly foldedTo: number;
  readonly entries: readonly HistoryEntry[];
  readonly final: FileState | null;
  readonly conflicts: readonly ConflictInfo[];
};

const versionOf = (v: VersionSnapshot): Version => ({ eventId: v.eventId, region: v.region, seq: v.seq, at: v.at, clock: v.clock, deleted: v.deleted });

const conflictInfo = (c: ConflictRecord): ConflictInfo => ({
  id: c.id, strategy: c.strategy, status: c.status, local: versionOf(c.local), remote: versionOf(c.remote), resolution: c.resolution,
});

const pendingFor = (view: View, fileId: string): string[] =>
  [...view.regions.keys()].filter((r) => view.pending.has(pendingKey(r, fileId))).sort();

/** Proven principals of the events seen so far, by event id (stored at the first sequence of an id). */
type Principals = ReadonlyMap<string, string | null>;

const stateOf = (view: View, f: FileRecord, principals: Principals): FileState => ({
  path: f.path,
  size: f.size,
  checksum: f.checksum,
  deleted: f.deleted,
  versions: f.versions,
  clock: f.clock,
  version: { eventId: f.version.eventId, region: f.version.region, seq: f.version.seq, at: f.version.at, principal: principals.get(f.version.eventId) ?? null },
  primary: f.primary,
  locations: f.locations.map((l) => ({ region: l.regionId, state: l.state, clock: l.clock, lastSyncAt: l.lastSyncAt })),
  pending: pendingFor(view, f.fileId),
});

const clockFor = (e: CoordinatorEvent, fileId: string): VectorClock | null => {
  switch (e.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return normalizeClock(e.clock);
    case 'sync.acked': {
      const ack = e.files.find((f) => f.fileId === fileId);
      return ack === undefined ? null : normalizeClock(ack.clock);
    }
    default:
      return null;
  }
};

const namesFile = (e: CoordinatorEvent, fileId: string, conflictIds: ReadonlySet<string>): boolean =>
  filesOf(e).includes(fileId) || (e.type === 'conflict.resolved' && conflictIds.has(e.conflictId));

const showClock = (c: VectorClock): string => JSON.stringify(c);

const describeEffects = (before: FileState | undefined, after: FileState | undefined, conflicts: readonly ConflictInfo[]): string[] => {
  const out: string[] = [];
  for (const c of conflicts) {
    const winner = c.resolution?.winner ?? 'none yet';
    out.push(`conflict ${c.id}: local ${c.local.eventId} (${c.local.region} ${showClock(c.local.clock)}) vs remote ${c.remote.eventId} (${c.remote.region} ${showClock(c.remote.clock)}), ${c.strategy}: ${c.status}, winner ${winner}`);
  }
  if (after === undefined) return out;
  if (before === undefined || after.versions !== before.versions) {
    out.push(`version ${after.versions}${after.deleted ? ' (deleted)' : ''}: ${after.version.eventId} from ${after.version.region}, principal ${shownPrincipal(after.version.principal)}, clock ${showClock(after.clock)}`);
  }
  const was = new Map((before?.locations ?? []).map((l) => [l.region, `${l.state} ${showClock(l.clock)}`]));
  const copies = after.locations.filter((l) => was.get(l.region) !== `${l.state} ${showClock(l.clock)}`).map((l) => `${l.region} ${l.state}`);
  if (copies.length > 0) out.push(`copies: ${copies.join(', ')}`);
  if ((before?.pending ?? []).join() !== after.pending.join()) out.push(after.pending.length === 0 ? 'nothing pending' : `pending for ${after.pending.join(', ')}`);
  return out;
};

export const fileHistory = async (s: StreamAccess, fileId: string, onProgress?: Progress): Promise<FileHistory> => {
  const last = await streamLast(s);
  let view = emptyView();
  const entries: HistoryEntry[] = [];
  const conflictIds = new Set<string>();
  const principals = new Map<string, string | null>();
  onProgress?.(0, last);
  if (last > 0) {
    const runner = new Runner(view);
    for await (const batch of readEntries(s.js, s.jsm, s.stream, { toSeq: last, batch: 5000 })) {
      for (const msg of batch) {
        const before = view;
        const verdict = runner.apply(msg);
        if (verdict === null) continue;
        const result = runner.cut();
        view = result.view;
        const e = verdict.event;
        const touchedFile = result.touched.some((t) => t.collection === 'files' && t.key === fileId);
        const touchedPending = result.touched.some((t) => t.collection === 'pending' && t.key.slice(t.key.indexOf('/') + 1) === fileId);
        const newConflicts = result.touched
          .filter((t) => t.collection === 'conflicts')
          .map((t) => view.conflicts.get(t.key))
          .filter((c): c is ConflictRecord => c !== undefined && c.fileId === fileId);
        for (const c of newConflicts) conflictIds.add(c.id);
        const named = e !== null && namesFile(e, fileId, conflictIds);
        if (!touchedFile && !touchedPending && newConflicts.length === 0 && !named) continue;
        if (e !== null && !principals.has(e.id)) principals.set(e.id, msg.principal);

        const rejection = verdict.rejection === null ? undefined : describeRejection(verdict.rejection);
        const beforeFile = before.files.get(fileId);
        const afterFile = view.files.get(fileId);
        const beforeState = beforeFile === undefined ? undefined : stateOf(before, beforeFile, principals);
        const afterState = afterFile !== undefined && (touchedFile || touchedPending) ? stateOf(view, afterFile, principals) : undefined;
        let outcome: Outcome;
        if (rejection !== undefined) outcome = touchedFile || touchedPending ? 'partial' : 'rejected';
        else if (newConflicts.length > 0) outcome = 'conflict';
        else if (touchedFile && e?.type.startsWith('file.') === true && afterFile?.versions !== beforeFile?.versions) outcome = 'applied';
        else if (e?.type === 'sync.acked' && (touchedFile || touchedPending)) outcome = 'acked';
        else if (e?.type === 'sync.requested' && (touchedFile || touchedPending)) outcome = 'requested';
        else if (touchedFile || touchedPending) outcome = 'other';
        else outcome = 'no-op';
        const conflicts = newConflicts.map(conflictInfo);
        entries.push({
          seq: msg.seq,
          storedAt: msg.storedAt,
          eventId: e?.id ?? null,
          type: e?.type ?? null,
          by: e === null ? null : claimedPublisherOf(e),
          principal: msg.principal,
          at: e?.at ?? null,
          clock: e === null ? null : clockFor(e, fileId),
          outcome,
          ...(rejection === undefined ? {} : { reason: rejection }),
          ...(conflicts.length === 0 ? {} : { conflicts }),
          ...(afterState === undefined ? {} : { file: afterState }),
          effects: describeEffects(beforeState, afterState, conflicts),
        });
      }
      onProgress?.(view.seq, last);
    }
  }
  if (entries.length === 0) throw notFound(`no event in the stream (sequences 1..${last}) names file ${fileId}`);
  const final = view.files.get(fileId);
  return {
    fileId,
    foldedTo: view.seq,
    entries,
    final: final === undefined ? null : stateOf(view, final, principals),
    conflicts: [...view.conflicts.values()].filter((c) => c.fileId === fileId).map(conflictInfo),
  };
};
