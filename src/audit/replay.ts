// Replay: the stored history, filtered, one record per stored message, in sequence order. Reads in
// batches and yields them as it goes, so memory does not grow with the length of the history (only
// the --file and --path filters remember ids: of that file's changes / of files under that path).
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, salvageId } from '../../streams/decode.js';
import { eventCodecs, type CoordinatorEvent } from '../../streams/events.js';
import { provenPrincipal } from '../../streams/principal.js';
import { regionOfSubject } from '../../streams/subjects.js';
import type { StoredEvent } from '../../projections/view.js';
import { readStream } from '../nats/read.js';
import type { StreamAccess } from './context.js';
import { usage } from './errors.js';
import type { Progress } from './fold.js';
import { seqAtTime, streamLast } from './points.js';

/** `invalid` selects messages that do not decode (they are rejected entries in the view). */
export const REPLAY_TYPES = [...Object.keys(eventCodecs), 'invalid'] as const;

export type ReplayFilter = {
  readonly fileId?: string;
  readonly pathPrefix?: string;
  /** Events of (or, for what the coordinator appends, about) this region: its `region` field, or (for undecodable messages) one of its own subjects. */
  readonly region?: string;
  readonly types?: readonly string[];
  readonly fromSeq?: number;
  readonly toSeq?: number;
  /** Milliseconds since the epoch, inclusive. */
  readonly since?: number;
  readonly until?: number;
  /** Which time since/until filter on: the stream's store time (default) or the event's own `at`. */
  readonly clock?: 'stored' | 'event';
  /** Who published it, as proven (`region:<id>`, `coordinator:<id>`, an API principal): see ReplayRecord.principal. */
  readonly principal?: string;
};

export type ReplayRecord = {
  readonly seq: number;
  readonly storedAt: string;
  readonly subject: string;
  readonly type: string | null;
  readonly id: string | null;
  /** The event's own timestamp (the region's or operator's clock). */
  readonly at: string | null;
  /**
   * Who published it, as proven: by its subject (a region's own) or by the coordinator's
   * Jzse-Principal header; null when nothing proves it (it predates authentication).
   */
  readonly principal: string | null;
  readonly proven: boolean;
  /** Who the event says published it: its region, operator, or the coordinator's `observer` (unproven). */
  readonly claimed: string | null;
  /** File ids the event names. */
  readonly files: readonly string[];
  readonly path: string | null;
  readonly valid: boolean;
  /** Why it does not decode (the reason the fold records when it rejects it). */
  readonly error?: string;
  /** The event as decoded, or the raw JSON value of an invalid one (null if not JSON). */
  readonly event: unknown;
};

export type ReplayPlan = { readonly fromSeq: number; readonly toSeq: number; readonly last: number };

export const checkTypes = (types: readonly string[]): readonly string[] => {
  for (const t of types) {
    if (!(REPLAY_TYPES as readonly string[]).includes(t)) throw usage(`--type: "${t}" is not an event type; expected one of ${REPLAY_TYPES.join(', ')}`);
  }
  return types;
};

/** The sequence range to read: --from-seq/--to-seq, narrowed by a store-time range. */
export const planReplay = async (s: StreamAccess, f: ReplayFilter): Promise<ReplayPlan> => {
  const last = await streamLast(s);
  if (f.fromSeq !== undefined && f.fromSeq > last) throw usage(`--from-seq: sequence ${f.fromSeq} is beyond the stream's last sequence ${last}`);
  if (f.toSeq !== undefined && f.toSeq > last) throw usage(`--to-seq: sequence ${f.toSeq} is beyond the stream's last sequence ${last}`);
  if (f.fromSeq !== undefined && f.toSeq !== undefined && f.fromSeq > f.toSeq) throw usage(`--from-seq ${f.fromSeq} is after --to-seq ${f.toSeq}`);
  if (f.since !== undefined && f.until !== undefined && f.since > f.until) throw usage('--since is after --until');
  let fromSeq = Math.max(1, f.fromSeq ?? 1);
  let toSeq = f.toSeq ?? last;
  if ((f.clock ?? 'stored') === 'stored') {
    if (f.since !== undefined) fromSeq = Math.max(fromSeq, (await seqAtTime(s, f.since - 1, last)) + 1);
    if (f.until !== undefined) toSeq = Math.min(toSeq, await seqAtTime(s, f.until, last));
  }
  return { fromSeq, toSeq, last };
};

type Loose = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const parseLoose = (data: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return null;
  }
};

/** How a null principal reads for people: nothing proves who published it. */
export const UNPROVEN = '(unproven: predates authentication)';
export const shownPrincipal = (principal: string | null): string => principal ?? UNPROVEN;

/** Who the event claims published it: the coordinator (observer) for what the leader appends, else the region or operator. */
export const claimedPublisherOf = (e: CoordinatorEvent): string =>
  'observer' in e ? e.observer : 'region' in e ? e.region : e.operator;

/** The files an event names directly. */
export const filesOf = (e: CoordinatorEvent): string[] => {
  switch (e.type) {
    case 'file.registered':
    case 'file.updated':
      return [e.file.fileId];
    case 'file.deleted':
      return [e.fileId];
    case 'sync.acked':
    case 'sync.requested':
      return [...new Set(e.files.map((f) => f.fileId))];
    case 'sync.demanded':
      return [...new Set(e.fileIds)];
    case 'conflict.resolved':
      return 'merged' in e.choice ? [e.choice.merged.fileId] : [];
    default:
      return [];
  }
};

/** A stored message as a replay record (decoded exactly as the fold decodes it). */
export const recordOf = (m: StoredEvent): ReplayRecord => {
  const decoded = decodeEvent(m.subject, m.data);
  const principal = provenPrincipal(m.subject, m.principalHeader);
  const proof = { principal, proven: principal !== null };
  if (E.isRight(decoded)) {
    const e = decoded.right;
    return {
      seq: m.seq, storedAt: m.storedAt, subject: m.subject, type: e.type, id: e.id, at: e.at, ...proof, claimed: claimedPublisherOf(e),
      files: filesOf(e), path: e.type === 'file.registered' || e.type === 'file.updated' ? e.file.path : null, valid: true, event: e,
    };
  }
  const raw = parseLoose(m.data);
  const loose: Loose = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Loose) : {};
  return {
    seq: m.seq, storedAt: m.storedAt, subject: m.subject, type: str(loose['type']), id: salvageId(m.data) ?? null, at: str(loose['at']),
    ...proof, claimed: str(loose['region']) ?? str(loose['operator']), files: [], path: null, valid: false, error: decoded.left, event: raw,
  };
};

/** Applies a filter along the stream; keeps the little state the --file and --path filters need. */
export const createMatcher = (f: ReplayFilter) => {
  const types = f.types === undefined || f.types.length === 0 ? undefined : new Set(f.types);
  const fileChangeIds = new Set<string>();
  const underPath = new Set<string>();
  return (r: ReplayRecord): boolean => {
    const e = r.valid ? (r.event as CoordinatorEvent) : undefined;
    // Track first, so an event is judged with what it itself says.
    if (e !== undefined && f.fileId !== undefined && r.files.includes(f.fileId) && e.type.startsWith('file.')) fileChangeIds.add(e.id);
    if (e !== undefined && f.pathPrefix !== undefined && r.path !== null) {
      const fileId = r.files[0] ?? '';
      if (r.path.startsWith(f.pathPrefix)) underPath.add(fileId);
      else underPath.delete(fileId);
    }
    if (types !== undefined && !types.has(r.valid ? (r.type ?? '') : 'invalid')) return false;
    if (f.principal !== undefined && r.principal !== f.principal) return false;
    if (f.region !== undefined) {
      const region = e !== undefined ? ('region' in e ? e.region : undefined) : (r.claimed ?? undefined);
      if (region !== f.region && !(e === undefined && regionOfSubject(r.subject) === f.region)) return false;
    }
    if (f.clock === 'event' && (f.since !== undefined || f.until !== undefined)) {
      const at = r.at === null ? NaN : Date.parse(r.at);
      if (Number.isNaN(at) || (f.since !== undefined && at < f.since) || (f.until !== undefined && at > f.until)) return false;
    }
    if (f.fileId !== undefined) {
      const named = r.files.includes(f.fileId) || (e?.type === 'conflict.resolved' && fileChangeIds.has(e.conflictId));
      if (!named) return false;
    }
    if (f.pathPrefix !== undefined) {
      const under = r.path !== null ? r.path.startsWith(f.pathPrefix) : r.files.some((id) => underPath.has(id));
      if (!under) return false;
    }
    return true;
  };
};

/** Matching records, a batch at a time (a batch may be empty when nothing in it matched). */
export async function* replay(s: StreamAccess, f: ReplayFilter, plan: ReplayPlan, onProgress?: Progress): AsyncGenerator<ReplayRecord[]> {
  const total = Math.max(0, plan.toSeq - plan.fromSeq + 1);
  onProgress?.(0, total);
  if (total === 0) return;
  const matches = createMatcher(f);
  for await (const batch of readStream(s.js, s.jsm, s.stream, { fromSeq: plan.fromSeq, toSeq: plan.toSeq, batch: 500 })) {
    const out: ReplayRecord[] = [];
    for (const m of batch) {
      const r = recordOf(m);
      if (matches(r)) out.push(r);
    }
    onProgress?.((batch[batch.length - 1]?.seq ?? plan.fromSeq) - plan.fromSeq + 1, total);
    yield out;
  }
}
