// Human-readable renderings of the audit functions' results (the JSON renderings are the results).
import type { RecordDiff } from '../audit/diff.js';
import type { ViewSummary } from '../audit/entries.js';
import type { FileHistory, HistoryEntry } from '../audit/history.js';
import { shownPrincipal, UNPROVEN, type ReplayRecord } from '../audit/replay.js';
import type { Status } from '../audit/status.js';
import type { VerifyResult } from '../audit/verify.js';
import { brief, Table } from './output.js';

const clock = (c: unknown): string => (c === null || c === undefined ? '' : JSON.stringify(c));

export const replayTable = (width: number): Table =>
  new Table(
    [
      { title: 'SEQ', width: 8, align: 'right' },
      { title: 'STORED', width: 24 },
      { title: 'TYPE', width: 19 },
      { title: 'PRINCIPAL', width: UNPROVEN.length },
      { title: 'FILE', width: 14 },
      { title: 'DETAIL', width: 8 },
    ],
    width,
  );

type AnyEvent = Record<string, unknown> & {
  file?: { path?: string };
  files?: Array<{ fileId: string; clock: unknown }>;
  status?: { state?: string; syncLag?: number; loadLevel?: number };
  choice?: { keep?: string; merged?: unknown };
};

const detailOf = (r: ReplayRecord): string => {
  if (!r.valid) return `INVALID: ${r.error ?? ''}`;
  const e = r.event as AnyEvent;
  switch (r.type) {
    case 'file.registered':
    case 'file.updated':
      return `${e.file?.path ?? ''} ${clock(e['clock'])}`;
    case 'file.deleted':
      return `deleted ${clock(e['clock'])}`;
    case 'sync.acked':
      return (e.files ?? []).map((f) => `${f.fileId} ${clock(f.clock)}`).join(', ');
    case 'region.registered':
      return `${String(e['name'])} @ ${String(e['endpoint'])}`;
    case 'region.deregistered':
      return typeof e['reason'] === 'string' ? e['reason'] : '';
    case 'region.heartbeat':
      return `${e.status?.state ?? ''}, sync lag ${e.status?.syncLag ?? 0}, load ${e.status?.loadLevel ?? 0}`;
    case 'conflict.resolved':
      return `${String(e['conflictId'])}: ${e.choice?.keep !== undefined ? `keep ${e.choice.keep}` : 'merged'}`;
    case 'policy.set':
      return `${String(e['pattern'])} sync=${brief(e['sync'] ?? '-')} conflict=${brief(e['conflict'] ?? '-')}`;
    default:
      return '';
  }
};

/** What the event says of who published it, where the proven principal (its own column) does not say the same. */
const withClaim = (r: ReplayRecord, detail: string): string =>
  r.claimed === null || [r.claimed, `region:${r.claimed}`, `coordinator:${r.claimed}`].includes(r.principal ?? '') ? detail : `claimed ${r.claimed}: ${detail}`;

export const replayRow = (t: Table, r: ReplayRecord): string =>
  t.row([String(r.seq), r.storedAt, r.valid ? (r.type ?? '') : `${r.type ?? '?'} (invalid)`, shownPrincipal(r.principal), r.files.join(','), withClaim(r, detailOf(r))]);

export const summaryLines = (s: ViewSummary): string[] => [
  `  files      ${s.files.total} (${s.files.live} live, ${s.files.deleted} deleted)`,
  `  regions    ${s.regions.total} (${s.regions.active} active: ${s.regions.healthy} healthy, ${s.regions.degraded} degraded, ${s.regions.offline} offline)`,
  `  conflicts  ${s.conflicts.total} (${s.conflicts.open} open)`,
  `  pending    ${s.pending}`,
  `  rejected   ${s.rejected}`,
  `  policies   ${s.policies}`,
  `  entries    ${s.entries}`,
  `  digest     ${s.digest}`,
];

const sideName = (change: RecordDiff['change'], a: string, b: string): string =>
  change === 'only-in-a' ? `only in ${a}` : change === 'only-in-b' ? `only in ${b}` : 'changed';

/** One block per differing record: `~ files/f1` then its fields, `- key only in A`, `+ key only in B`. */
export const diffLines = (diffs: readonly RecordDiff[], a: string, b: string, limit: number): string[] => {
  const out: string[] = [];
  for (const d of diffs.slice(0, limit)) {
    const mark = d.change === 'only-in-a' ? '-' : d.change === 'only-in-b' ? '+' : '~';
    out.push(`  ${mark} ${d.id === '' ? d.key : `${d.collection}/${d.id}`}  (${sideName(d.change, a, b)})`);
    for (const f of d.fields ?? []) out.push(`      ${f.field}: ${brief(f.a, 60)} → ${brief(f.b, 60)}`);
  }
  if (diffs.length > limit) out.push(`  … and ${diffs.length - limit} more (--limit, or --json for all)`);
  return out;
};

export const verifyLines = (r: VerifyResult, limit: number): string[] => {
  const out = [
    `live view ${r.viewPrefix}: checkpoint ${r.checkpoint ?? 'none'}, stream last sequence ${r.streamLastSeq} (lag ${r.lag})`,
    `  fold of events 1..${r.foldedTo}  ${r.fold.digest}  (${r.fold.entries} entries)`,
    `  live view             ${r.live.digest}  (${r.live.entries} entries)`,
  ];
  for (const p of r.problems) out.push(`  problem: ${p}`);
  if (r.equal) {
    out.push('OK: the live view equals the fold of the stream up to its checkpoint');
  } else {
    out.push(`DIFFERENT: ${r.differences.length} record${r.differences.length === 1 ? '' : 's'} differ${r.differences.length === 1 ? 's' : ''} (- only in the live view, + only in the fold, ~ changed: live → fold)`);
    out.push(...diffLines(r.differences, 'the live view', 'the fold', limit));
  }
  return out;
};

export const statusLines = (s: Status, width: number): string[] => {
  const out = [
    `stream      ${s.stream}: last sequence ${s.streamLastSeq}`,
    s.checkpointAhead
      ? `view        ${s.viewPrefix}: checkpoint ${s.checkpoint ?? 'none'} is PAST the stream's end: the stream lost events the view holds (see jzse verify)`
      : `view        ${s.viewPrefix}: checkpoint ${s.checkpoint ?? 'none'} (projection lag ${s.lag} event${s.lag === 1 ? '' : 's'})`,
    `leader      ${s.leader === null ? 'none (no candidate in the election)' : `${s.leader.id} (${s.candidates} candidate${s.candidates === 1 ? '' : 's'})`}`,
    `files       ${s.files}`,
    `conflicts   ${s.conflicts.total} (${s.conflicts.open} open${s.conflicts.open > 0 ? `: ${s.conflicts.openIds.join(', ')}` : ''})`,
    `rejected    ${s.rejected.total}${s.rejected.latest.length > 0 ? ', latest:' : ''}`,
  ];
  for (const r of s.rejected.latest) out.push(brief(`  seq ${r.seq}  ${r.key}  ${r.type ?? '(undecodable)'}  ${r.reason}`, width));
  out.push(`snapshots   ${s.snapshots.length === 0 ? 'none' : s.snapshots.join(', ')}`);
  out.push(`regions     ${s.regions.length} (${s.regions.filter((r) => r.active).length} active)`);
  if (s.regions.length > 0) {
    const t = new Table(
      [
        { title: 'REGION', width: 14 },
        { title: 'ACTIVE', width: 6 },
        { title: 'STATE', width: 9 },
        { title: 'SYNC LAG', width: 8, align: 'right' },
        { title: 'PENDING', width: 8, align: 'right' },
        { title: 'LOAD', width: 5, align: 'right' },
        { title: 'LAST SEEN', width: 24 },
      ],
      width,
    );
    out.push(`  ${t.header()}`);
    for (const r of s.regions) {
      out.push(`  ${t.row([r.id, r.active ? 'yes' : 'no', r.state, String(r.syncLag), String(r.pending), r.loadLevel.toFixed(2), r.lastSeenAt])}`);
    }
  }
  return out;
};

export const historyTable = (width: number): Table =>
  new Table(
    [
      { title: 'SEQ', width: 8, align: 'right' },
      { title: 'STORED', width: 24 },
      { title: 'EVENT', width: 19 },
      { title: 'PRINCIPAL', width: UNPROVEN.length },
      { title: 'CLOCK', width: 16 },
      { title: 'OUTCOME', width: 8 },
    ],
    width,
  );

export const historyEntryLines = (t: Table, e: HistoryEntry, width: number): string[] => [
  t.row([String(e.seq), e.storedAt, e.type ?? '(invalid)', shownPrincipal(e.principal), clock(e.clock), e.outcome]),
  ...(e.eventId === null ? [] : [brief(`           event ${e.eventId}${e.at === null ? '' : ` at ${e.at}`}${e.by === null ? '' : `, claimed by ${e.by}`}`, width)]),
  ...(e.reason === undefined ? [] : [brief(`           reason: ${e.reason}`, width)]),
  ...e.effects.map((x) => brief(`           ${x}`, width)),
];

export const historyHeader = (h: FileHistory): string[] => {
  const f = h.final;
  const out = [`file ${h.fileId}  (${h.entries.length} events up to sequence ${h.foldedTo})`];
  if (f === null) {
    out.push('  never registered (every event naming it was rejected)');
  } else {
    out.push(`  ${f.deleted ? 'deleted' : 'live'}, version ${f.versions}, path ${f.path}, size ${f.size}, primary ${f.primary}`);
    out.push(`  clock ${clock(f.clock)}, content from ${f.version.eventId} (${f.version.region}, ${f.version.at}, principal ${shownPrincipal(f.version.principal)})`);
    out.push(`  copies: ${f.locations.map((l) => `${l.region} ${l.state} ${clock(l.clock)}`).join('; ') || 'none'}`);
    out.push(`  pending for: ${f.pending.join(', ') || 'nobody'}`);
  }
  const open = h.conflicts.filter((c) => c.status === 'open').length;
  out.push(`  conflicts: ${h.conflicts.length} (${open} open)`);
  return out;
};
