// Concurrent versions of a file (CONCURRENT vector clocks): always recorded with both versions,
// then settled by the path's strategy — last-writer-wins, merge, fork — or left open for an
// operator (manual) until a conflict.resolved event arrives.
import * as E from 'fp-ts/lib/Either.js';
import type { ChangeEvent, ConflictResolved, FileMetadata } from '../streams/events.js';
import { APPLIED, DUPLICATE, type Decision } from './decision.js';
import { compareStamps, effectiveAt, put, remember, type Draft } from './draft.js';
import { rejection, type Rejection } from './rejection.js';
import { policyFor, type ConflictStrategy } from './policies.js';
import { mergeVectorClocks } from './vectorClock.js';
import { applied, holdersOf, install, snapshotOfEvent, snapshotOfFile } from './versions.js';
import type { ConflictRecord, FileRecord, LogEntry, Stamp, VersionSnapshot, View } from './view.js';

/** Open conflicts kept per file; past this, new ones fall back to last-writer-wins (and say so). */
export const MAX_OPEN_CONFLICTS = 16;

type Versions = { readonly local: VersionSnapshot; readonly remote: VersionSnapshot; readonly remoteWins: boolean };

const record = (
  v: Versions,
  current: FileRecord,
  msg: LogEntry,
  at: string,
  strategy: ConflictStrategy,
  resolution: ConflictRecord['resolution'],
  extra: { fork?: string; note?: string } = {},
): ConflictRecord => ({
  id: v.remote.eventId,
  fileId: current.fileId,
  local: v.local,
  remote: v.remote,
  detectedAt: at,
  detectedSeq: msg.seq,
  strategy,
  status: resolution === null ? 'open' : 'resolved',
  resolution,
  fork: extra.fork ?? null,
  note: extra.note ?? null,
});

const settled = (v: Versions, by: string, at: string, winner: 'local' | 'remote' | 'merged') => ({ winner, by, at, eventId: v.remote.eventId });

/** Winner's content under the merged clock, which no region holds yet: every region is asked to sync. */
const lastWriterWins = (d: Draft, msg: LogEntry, current: FileRecord, v: Versions, at: string, note?: string): Draft => {
  const conflict = record(v, current, msg, at, 'last_writer_wins', settled(v, 'last_writer_wins', at, v.remoteWins ? 'remote' : 'local'), note ? { note } : {});
  return install(put(d, 'conflicts', conflict.id, conflict), msg, current, {
    winner: v.remoteWins ? v.remote : v.local,
    clock: mergeVectorClocks(v.local.clock, v.remote.clock),
    holders: holdersOf([v.local, v.remote]),
    upToDate: null,
  }, v.remote.eventId);
};

const stampOf = (v: VersionSnapshot, key: string): Stamp =>
  v.stamps?.[key] ?? { at: v.at, region: v.region, eventId: v.eventId };

/**
 * Attributes united key by key: a key both sides have goes to its latest writer, judged by the
 * stamp of the write it came from (kept per key), so merging in any order gives the same result.
 * Content comes from the later version when the two differ (checksum or size): the fall-back.
 */
const merge = (d: Draft, msg: LogEntry, current: FileRecord, v: Versions, at: string): Draft => {
  const last = v.remoteWins ? v.remote : v.local;
  const attributes: Record<string, string> = {};
  const stamps: Record<string, Stamp> = {};
  const keys = [...new Set([...Object.keys(v.local.file.attributes ?? {}), ...Object.keys(v.remote.file.attributes ?? {})])].sort();
  for (const key of keys) {
    const holders = [v.local, v.remote].filter((x) => Object.prototype.hasOwnProperty.call(x.file.attributes ?? {}, key));
    const pick = holders.reduce((a, b) => (compareStamps(stampOf(b, key), stampOf(a, key)) > 0 ? b : a));
    attributes[key] = pick.file.attributes?.[key] ?? '';
    stamps[key] = stampOf(pick, key);
  }
  const file: FileMetadata = { ...last.file, attributes };
  const sameContent = v.local.file.checksum === v.remote.file.checksum && v.local.file.size === v.remote.file.size;
  const merged: VersionSnapshot = { ...last, deleted: v.local.deleted && v.remote.deleted, file, stamps };
  const conflict = record(v, current, msg, at, 'merge', settled(v, 'merge', at, 'merged'),
    sameContent ? {} : { note: `contents differ: kept the ${v.remoteWins ? 'remote' : 'local'} content (last writer wins), merged attributes` });
  return install(put(d, 'conflicts', conflict.id, conflict), msg, current, {
    winner: merged,
    clock: mergeVectorClocks(v.local.clock, v.remote.clock),
    holders: holdersOf([v.local, v.remote]),
    upToDate: null,
  }, v.remote.eventId);
};

/** Both versions kept, the file unchanged, until an operator resolves it. */
const manual = (d: Draft, msg: LogEntry, current: FileRecord, v: Versions, at: string): Draft => {
  const conflict = record(v, current, msg, at, 'manual', null);
  return put(put(d, 'conflicts', conflict.id, conflict), 'files', current.fileId, {
    ...current,
    recentEventIds: remember(current.recentEventIds, v.remote.eventId),
    openConflicts: [...(current.openConflicts ?? []), conflict.id],
  });
};

/** FNV-1a, 32 bits: a short, stable, collision-resistant-enough suffix for fork names. */
const fnv1a = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
};

/** Syncthing-style: `report.sync-conflict-20261125-101500-r2.pdf` beside the original. */
export const forkPath = (path: string, at: string, region: string): string => {
  const stamp = at.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const cut = dot > slash + 1 ? dot : path.length;
  return `${path.slice(0, cut)}.sync-conflict-${stamp}-${region}${path.slice(cut)}`;
};

/** Within the id rule (A-Z a-z 0-9 . _ : -), so regions can ack it and the leader's sync.requested naming it decodes. */
export const forkFileId = (fileId: string, eventId: string): string => `${fileId.slice(0, 100)}:c${fnv1a(eventId)}`;

/** The winner stays; the loser lives on as a new file its region holds. */
const fork = (d: Draft, msg: LogEntry, current: FileRecord, v: Versions, at: string): Draft => {
  const loser = v.remoteWins ? v.local : v.remote;
  const forkId = forkFileId(current.fileId, loser.eventId);
  if (d.view.files.has(forkId)) return lastWriterWins(d, msg, current, v, at, `fork name ${forkId} taken: fell back to last-writer-wins`);
  const conflict = record(v, current, msg, at, 'fork', settled(v, 'fork', at, v.remoteWins ? 'remote' : 'local'), { fork: forkId });
  const kept = install(put(d, 'conflicts', conflict.id, conflict), msg, current, {
    winner: v.remoteWins ? v.remote : v.local,
    clock: mergeVectorClocks(v.local.clock, v.remote.clock),
    holders: holdersOf([v.local, v.remote]),
    upToDate: null,
  }, v.remote.eventId);
  const copy: VersionSnapshot = { ...loser, file: { ...loser.file, fileId: forkId, path: forkPath(loser.file.path, at, loser.region) } };
  return install(kept, msg, undefined, applied(copy, current.replicas), v.remote.eventId);
};

export const resolveConcurrent = (d: Draft, msg: LogEntry, current: FileRecord, event: ChangeEvent, at: string): Draft => {
  const local = snapshotOfFile(current);
  const remote = snapshotOfEvent(event, msg.seq, at, current);
  const v: Versions = { local, remote, remoteWins: compareStamps(remote, local) > 0 };
  switch (policyFor(d.view, current.path).conflict) {
    case 'last_writer_wins':
      return lastWriterWins(d, msg, current, v, at);
    case 'merge':
      return merge(d, msg, current, v, at);
    case 'fork':
      return fork(d, msg, current, v, at);
    case 'manual':
      return (current.openConflicts ?? []).length >= MAX_OPEN_CONFLICTS
        ? lastWriterWins(d, msg, current, v, at, `${MAX_OPEN_CONFLICTS} conflicts already open on this file: fell back to last-writer-wins`)
        : manual(d, msg, current, v, at);
  }
};

export const decideResolve = (view: View, event: ConflictResolved): E.Either<Rejection, Decision> => {
  const conflict = view.conflicts.get(event.conflictId);
  if (conflict === undefined) return E.left(rejection('not_found', 'conflictId', `no conflict ${event.conflictId}`));
  if (conflict.resolution?.eventId === event.id) return E.right(DUPLICATE);
  if (conflict.status !== 'open') {
    return E.left(rejection('failed_precondition', 'conflictId',
      `${event.conflictId} is ${conflict.status}${conflict.resolution ? ` (by ${conflict.resolution.by})` : ''}`));
  }
  const current = view.files.get(conflict.fileId);
  if (current === undefined) return E.left(rejection('not_found', 'conflictId', `file ${conflict.fileId} is gone`));
  if ('keep' in event.choice) {
    return current.version.eventId === conflict.local.eventId
      ? E.right(APPLIED)
      : E.left(rejection('conflict', 'choice.keep', `${conflict.fileId} changed since the conflict (now version ${current.version.eventId}); resolve with merged metadata`));
  }
  return event.choice.merged.fileId === conflict.fileId
    ? E.right(APPLIED)
    : E.left(rejection('invalid', 'choice.merged.fileId', `expected ${conflict.fileId}, got ${event.choice.merged.fileId}`));
};

/** An operator settles an open conflict: keep a side (only if the file has not moved on) or supply merged metadata. */
export const evolveResolve = (d: Draft, entry: LogEntry, event: ConflictResolved): Draft => {
  const conflict = d.view.conflicts.get(event.conflictId);
  const current = conflict === undefined ? undefined : d.view.files.get(conflict.fileId);
  if (conflict === undefined || current === undefined) return d;
  const at = effectiveAt(event.at, entry.storedAt);
  const chosen: VersionSnapshot = 'keep' in event.choice
    ? (event.choice.keep === 'local' ? conflict.local : conflict.remote)
    : { ...conflict.remote, eventId: event.id, seq: entry.seq, region: `operator:${event.operator}`, at, deleted: false, file: event.choice.merged };
  const winner = 'keep' in event.choice ? event.choice.keep : 'merged';
  const resolved: ConflictRecord = { ...conflict, status: 'resolved', resolution: { winner, by: event.operator, at, eventId: event.id } };
  const next = install(put(d, 'conflicts', conflict.id, resolved), entry, current, {
    winner: chosen,
    clock: mergeVectorClocks(mergeVectorClocks(current.clock, conflict.local.clock), conflict.remote.clock),
    holders: holdersOf([conflict.local, conflict.remote]),
    upToDate: null,
  }, event.id);
  const file = next.view.files.get(conflict.fileId);
  return file === undefined ? next : put(next, 'files', file.fileId, { ...file, openConflicts: file.openConflicts.filter((id) => id !== conflict.id) });
};
