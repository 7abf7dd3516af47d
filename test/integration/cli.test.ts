// The `jzse` CLI on real servers: rebuilds at a sequence and at a store time equal the fold of that
// prefix of the log and leave every live key alone; snapshots shorten rebuilds without changing
// them; verify catches a hand-corrupted key and repair (fenced, only without a leader) fixes it;
// replay filters, history, status, diff; and a replay of 200,000 events stays under 200 MB.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import * as E from 'fp-ts/lib/Either.js';
import { foldStored as fold } from '../support/events.js';
import { canonicalJson, recordKey, viewEntries } from '../../projections/layout.js';
import { emptyView, type StoredEvent, type View } from '../../projections/view.js';
import { decodeEvent } from '../../streams/decode.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { changesSubject, regionOfSubject } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import { readStream } from '../../src/nats/read.js';
import { AuditContext, auditConfig, type StreamAccess } from '../../src/audit/context.js';
import { status } from '../../src/audit/status.js';
import { waitFor, withTimeout } from '../../src/util/waitFor.js';
import { publishBulk } from '../support/bulk.js';
import { cliEnv, jsonLines, JZSE_BIN, jzse, jzseProcess, type CliResult } from '../support/cli.js';
import { fileRegistered, policySet } from '../support/events.js';
import { appenderFor, publishWorkload } from '../support/publish.js';
import {
  asObject, checkpointOf, expectedEntries, foldStream, readEtcdView, startInProcess, startStack, streamLastSeq, waitForCaughtUp, type Stack,
} from '../support/stack.js';

const MB = 1024 * 1024;
/** How long the 200,000-event replay may run before it is killed and named. */
const REPLAY_BOUND_MS = 180_000;

/** The digest as docs/cli.md defines it: sha256 over `key\nvalue\n` of every entry, keys relative to the view, sorted. */
const digestOf = (view: View): string => {
  const hash = createHash('sha256');
  const entries = viewEntries('', view);
  for (const key of [...entries.keys()].sort()) hash.update(`${key.slice(1)}\n${entries.get(key)}\n`);
  return `sha256:${hash.digest('hex')}`;
};

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, `exit code 0 expected; stderr: ${r.stderr}`);
  return r;
};
const json = <T>(r: CliResult): T => JSON.parse(ok(r).stdout) as T;

type Summary = {
  seq: number; digest: string; target: string; entries: number;
  at: { seq: number; storedAt: string | null };
  files: { total: number }; regions: { total: number }; conflicts: { total: number; open: number };
  fromSnapshot: { seq: number; source: string } | null; eventsFolded: number;
};
type Diff = { key: string; change: string; fields?: Array<{ field: string }> };
type ReplayRow = {
  seq: number; storedAt: string; type: string | null; valid: boolean; error?: string; files: string[]; path: string | null;
  principal: string | null; proven: boolean; claimed: string | null;
};

describe('jzse CLI', () => {
  let stack: Stack;
  let coordinator: Coordinator | undefined;
  const events: StoredEvent[] = [];
  let decoded: Array<CoordinatorEvent | null> = [];
  let last = 0;
  let policySeq = 0;
  let brokenSeq = 0;

  const foldFirst = (n: number): View => fold(emptyView(), events.slice(0, n));
  const root = () => stack.config.etcd.prefix;
  const live = () => `${root()}/view`;
  /** Every key in etcd with its mod revision and value. */
  const etcdKeys = async (): Promise<Map<string, string>> => {
    const res = await stack.etcdClient.getAll().exec();
    return new Map(res.kvs.map((kv) => [kv.key.toString(), `${kv.mod_revision} ${kv.value.toString()}`]));
  };
  const revision = async (): Promise<bigint> => BigInt((await stack.etcdClient.get('any').exec()).header.revision);
  const entriesUnder = async (prefix: string): Promise<Map<string, string>> =>
    new Map(Object.entries(await stack.etcdClient.getAll().prefix(`${prefix}/`).strings()));
  const names = (e: CoordinatorEvent | null, fileId: string): boolean => {
    if (e === null) return false;
    switch (e.type) {
      case 'file.registered':
      case 'file.updated':
        return e.file.fileId === fileId;
      case 'file.deleted':
        return e.fileId === fileId;
      case 'sync.acked':
      case 'sync.requested':
        return e.files.some((f) => f.fileId === fileId);
      case 'sync.demanded':
        return e.fileIds.includes(fileId);
      default:
        return false;
    }
  };
  const replaySeqs = async (...args: string[]): Promise<number[]> =>
    jsonLines(ok(await jzse(stack, ['replay', ...args])).stdout).map((r) => (r as ReplayRow).seq);

  before(async () => {
    // A quiet leader: no timed sync requests or health verdicts appended while the tests compare the
    // stream with views (sync on demand only; heartbeats expected far less often than the test runs).
    stack = await startStack({
      JZSE_SYNC_DEFAULT_STRATEGY: 'on_demand',
      JZSE_HEALTH_HEARTBEAT_INTERVAL: '100000h',
      JZSE_HEALTH_OFFLINE_AFTER: '1000000h',
    });
    coordinator = await startInProcess(stack, 'c1');
    await publishWorkload(stack, ['r1', 'r2', 'r3'], 1500, { seed: 11 });
    // As the API appends it: the caller it authenticated in the Jzse-Principal header.
    policySeq = (await appenderFor(stack).append(policySet({ id: 'policy-by-alice', operator: 'alice', pattern: '/data/r1/*', sync: 'on_demand' }), undefined, 'alice')).seq;
    brokenSeq = (await stack.client.js.publish(changesSubject('r2'), new TextEncoder().encode('{"schema":1,"id":"broken-1","type":'), { msgID: 'broken-1' })).seq;
    last = await waitForCaughtUp(stack);
    for await (const batch of readStream(stack.client.js, stack.client.jsm, stack.config.nats.stream)) events.push(...batch);
    decoded = events.map((m) => {
      const d = decodeEvent(m.subject, m.data);
      return E.isRight(d) ? d.right : null;
    });
    assert.equal(events.length, last);
  });

  after(async () => {
    await coordinator?.stop();
    await stack.stop();
  });

  test('every command has --help with an example; wrong arguments are clear errors with exit code 2 (or 3, 5)', async () => {
    const root = ok(await jzse(stack, ['--help']));
    assert.match(root.stdout, /Exit codes: 0 ok; 1 views differ/);
    for (const command of ['replay', 'history', 'rebuild', 'repair', 'diff', 'verify', 'status', 'snapshot']) {
      const help = ok(await jzse(stack, [command, '--help']));
      assert.match(help.stdout, new RegExp(`Usage: jzse ${command}`));
      assert.match(help.stdout, new RegExp(`Examples?:\\n  \\$ jzse ${command}`), `${command} --help has an example`);
    }
    const rebuildHelp = ok(await jzse(stack, ['rebuild', '--help'])).stdout;
    assert.match(rebuildHelp, /--at <time> is the stream's store time/);
    assert.match(rebuildHelp, /not the\s+events' own "at"/);

    // Through bin/jzse, as its own process: the exit code is the process's.
    const unknown = await jzseProcess(stack, ['replay', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/);

    await stack.etcdClient.put('/other-app/settings').value('{"keep":"me"}');
    const cases: Array<[string[], number, RegExp]> = [
      [['rebuild', '--at', '2026-13-45T99:00:00Z'], 2, /--at: "2026-13-45T99:00:00Z" is neither a stream sequence nor an RFC 3339 time with a zone/],
      [['rebuild', '--at', '2026-11-25T10:00:00'], 2, /neither a stream sequence nor an RFC 3339 time with a zone/],
      [['replay', '--since', 'yesterday'], 2, /--since: "yesterday" is not an RFC 3339 time with a zone/],
      [['rebuild', '--at', String(last + 1000)], 2, new RegExp(`--at: sequence ${last + 1000} is beyond the stream's last sequence ${last}`)],
      [['snapshot', '--at', String(last + 1)], 2, /beyond the stream's last sequence/],
      [['replay', '--from-seq', String(last + 1)], 2, new RegExp(`--from-seq: sequence ${last + 1} is beyond the stream's last sequence ${last}`)],
      [['replay', '--from-seq', 'ten'], 2, /"ten" is not a stream sequence/],
      [['replay', '--type', 'file.exploded'], 2, /"file.exploded" is not an event type/],
      [['replay', '--clock', 'wall'], 2, /Allowed choices are stored, event/],
      [['diff', 'nowhere'], 2, /"nowhere" is not a view; expected one of live, etcd:<prefix>/],
      [['status', 'extra'], 2, /too many arguments/],
      [['rebuild', '--live', '--at', '3'], 2, /--live rebuilds the live view/],
      [['status', '--etcd-prefix', 'no-slash'], 2, /invalid configuration:\n {2}- etcd.prefix = "no-slash" \(from JZSE_ETCD_PREFIX\)/],
      [['history', 'no-such-file'], 3, /no event in the stream \(sequences 1\.\.\d+\) names file no-such-file/],
      [['diff', 'snapshot:999'], 3, /no snapshot at sequence 999/],
      [['rebuild', '--into', live()], 4, /overlaps the live view/],
      [['rebuild', '--into', '/other-app'], 4, /\/other-app holds 1 key that is not part of a view \(e\.g\. \/other-app\/settings\)/],
      [['replay', '--nats-url', 'nats://127.0.0.1:1'], 5, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/],
      [['status', '--etcd', 'http://127.0.0.1:1'], 5, /etcd at http:\/\/127\.0\.0\.1:1: 14 UNAVAILABLE/],
    ];
    for (const [args, code, message] of cases) {
      const r = await jzse(stack, args);
      assert.equal(r.code, code, `jzse ${args.join(' ')}: exit ${code} expected, got ${r.code}; stderr: ${r.stderr}`);
      assert.match(r.stderr, message, `jzse ${args.join(' ')}`);
      assert.equal(r.stdout, '', `jzse ${args.join(' ')} prints nothing on stdout`);
    }
    assert.equal(await stack.etcdClient.get('/other-app/settings').string(), '{"keep":"me"}', 'a foreign prefix is left alone');
  });

  test('rebuild --at N writes the fold of the first N events under a prefix of its own and changes no live key', async () => {
    const n = Math.floor(last * 0.6);
    const expected = foldFirst(n);
    const keysBefore = await etcdKeys();
    const revisionBefore = await revision();
    const checkpointBefore = await checkpointOf(stack);

    const summary = json<Summary>(await jzseProcess(stack, ['rebuild', '--at', String(n)]));
    const prefix = `${root()}/rebuilds/seq-${n}`;
    assert.equal(summary.target, `etcd:${prefix}`);
    assert.equal(summary.at.seq, n);
    assert.equal(summary.at.storedAt, events[n - 1]?.storedAt);
    assert.deepStrictEqual(asObject(await entriesUnder(prefix)), asObject(viewEntries(prefix, expected)));
    assert.equal(summary.digest, digestOf(expected));
    assert.equal(summary.files.total, expected.files.size);
    assert.equal(summary.regions.total, expected.regions.size);
    assert.equal(summary.conflicts.total, expected.conflicts.size);
    assert.equal(summary.conflicts.open, [...expected.conflicts.values()].filter((c) => c.status === 'open').length);

    // Nothing outside the rebuild prefix moved: same keys, same mod revisions, same values.
    const outside = (m: Map<string, string>) => new Map([...m].filter(([k]) => !k.startsWith(`${prefix}/`)));
    assert.ok((await revision()) > revisionBefore, 'the rebuild did write (under its own prefix)');
    assert.deepStrictEqual(outside(await etcdKeys()), outside(keysBefore));
    assert.equal(coordinator?.isLeader(), true, 'the projecting leader kept its leadership');
    assert.equal(await checkpointOf(stack), checkpointBefore);
  });

  test("rebuild --at <time> folds the events stored up to that store time, in any zone; before the first event it is empty", async () => {
    const times = events.map((m) => Date.parse(m.storedAt));
    assert.ok(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0)), 'store times do not decrease along the stream');
    // A store time in the middle, followed by events stored at a later millisecond.
    const k = times.findIndex((t, i) => i >= Math.floor(last / 3) && (times[i + 1] ?? Infinity) > t);
    const ms = times[k] ?? 0;
    const expected = fold(emptyView(), events.filter((m) => Date.parse(m.storedAt) <= ms));
    assert.ok(expected.seq > 0 && expected.seq < last);

    const file = join(stack.dir, 'at-time.jsonl');
    const summary = json<Summary>(await jzse(stack, ['rebuild', '--at', new Date(ms).toISOString(), '--out', file]));
    assert.equal(summary.at.seq, expected.seq);
    assert.equal(summary.target, `file:${file}`);
    assert.equal(summary.digest, digestOf(expected));
    const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepStrictEqual(JSON.parse(header ?? ''), { digest: digestOf(expected), entries: lines.length, jzse: 'view', seq: expected.seq, version: 1 });
    const fromFile = new Map(lines.map((l) => {
      const { key, value } = JSON.parse(l) as { key: string; value: unknown };
      return [`/${key}`, canonicalJson(value)] as const;
    }));
    assert.deepStrictEqual(asObject(fromFile), asObject(viewEntries('', expected)));

    // The same instant written in another zone selects the same events.
    const plus2 = new Date(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const zoned = json<Summary>(await jzse(stack, ['rebuild', '--at', plus2, '--into', `${root()}/rebuilds/zoned`]));
    assert.equal(zoned.at.seq, expected.seq);
    assert.equal(zoned.digest, summary.digest);

    const early = json<Summary>(await jzse(stack, ['rebuild', '--at', new Date((times[0] ?? 0) - 1000).toISOString(), '--into', `${root()}/rebuilds/early`]));
    assert.equal(early.at.seq, 0);
    assert.equal(early.files.total, 0);
    assert.equal(early.digest, digestOf(emptyView()));
  });

  test('a rebuild from the nearest snapshot equals a rebuild from zero; a damaged snapshot is skipped, then repaired', async () => {
    const s = Math.floor(last * 0.4);
    const n = Math.floor(last * 0.8);
    const snap = json<Summary & { written: boolean; chunks: number }>(await jzse(stack, ['snapshot', '--at', String(s)]));
    assert.equal(snap.at.seq, s);
    assert.equal(snap.written, true);
    assert.ok(snap.chunks >= 1);
    assert.equal(snap.digest, digestOf(foldFirst(s)));
    const list = json<Array<{ seq: number; chunks: number }>>(await jzse(stack, ['snapshot', '--list']));
    assert.deepStrictEqual(list.map((i) => i.seq), [s]);

    const fromSnapshot = json<Summary>(await jzse(stack, ['rebuild', '--at', String(n)]));
    assert.deepStrictEqual(fromSnapshot.fromSnapshot, { seq: s, source: `etcd:${root()}/snapshots` });
    assert.equal(fromSnapshot.eventsFolded, n - s);
    const fromZero = json<Summary>(await jzse(stack, ['rebuild', '--at', String(n), '--no-snapshots', '--into', `${root()}/rebuilds/from-zero`]));
    assert.equal(fromZero.fromSnapshot, null);
    assert.equal(fromZero.eventsFolded, n);
    assert.equal(fromSnapshot.digest, fromZero.digest);
    assert.equal(fromZero.digest, digestOf(foldFirst(n)));
    const same = await jzse(stack, ['diff', `etcd:${root()}/rebuilds/seq-${n}`, `etcd:${root()}/rebuilds/from-zero`]);
    assert.equal(same.code, 0);
    assert.equal((JSON.parse(same.stdout) as { equal: boolean }).equal, true);

    // The same through a snapshot file.
    const file = join(stack.dir, `snapshot-${s}.jsonl`);
    ok(await jzse(stack, ['snapshot', '--at', String(s), '--out', file]));
    const viaFile = json<Summary>(await jzse(stack, ['rebuild', '--at', String(n), '--snapshot', file, '--out', join(stack.dir, 'via-file.jsonl')]));
    assert.deepStrictEqual(viaFile.fromSnapshot, { seq: s, source: `file:${file}` });
    assert.equal(viaFile.digest, fromZero.digest);

    // A chunk edited by hand: the digest catches it, the rebuild falls back to zero with a warning.
    const chunk = `${root()}/snapshots/data/${String(s).padStart(20, '0')}/000000`;
    await stack.etcdClient.put(chunk).value('{"key":"files/x","value":{}}\n');
    const damaged = await jzse(stack, ['rebuild', '--at', String(n), '--into', `${root()}/rebuilds/damaged`]);
    assert.match(damaged.stderr, new RegExp(`warning: skipping snapshot ${s}: snapshot ${s}: digest mismatch`));
    assert.equal((JSON.parse(ok(damaged).stdout) as Summary).fromSnapshot, null);
    assert.equal((JSON.parse(damaged.stdout) as Summary).digest, fromZero.digest);
    const rewritten = json<{ written: boolean }>(await jzse(stack, ['snapshot', '--at', String(s)]));
    assert.equal(rewritten.written, true, 'a damaged snapshot is rewritten, not kept');
    const kept = json<{ written: boolean }>(await jzse(stack, ['snapshot', '--at', String(s)]));
    assert.equal(kept.written, false, 'an intact identical snapshot is kept');
    assert.deepStrictEqual(json<Summary>(await jzse(stack, ['rebuild', '--at', String(n)])).fromSnapshot?.seq, s);
  });

  test('replay filters: file, path, region, type, sequence range, store-time range, event time, principal, limit', async () => {
    const all = jsonLines(ok(await jzse(stack, ['replay', '--to-seq', String(last)])).stdout) as ReplayRow[];
    assert.deepStrictEqual(all.map((r) => r.seq), events.map((m) => m.seq));
    assert.deepStrictEqual(all.map((r) => r.storedAt), events.map((m) => m.storedAt));
    const seqsWhere = (keep: (e: CoordinatorEvent | null, m: StoredEvent) => boolean) =>
      events.filter((m, i) => keep(decoded[i] ?? null, m)).map((m) => m.seq);

    const folded = foldFirst(last);
    const conflicted = [...folded.conflicts.values()][0]?.fileId;
    assert.ok(conflicted !== undefined, 'the workload produced conflicts');
    assert.deepStrictEqual(await replaySeqs('--file', conflicted), seqsWhere((e) => names(e, conflicted)));

    assert.deepStrictEqual(
      await replaySeqs('--region', 'r2', '--type', 'file.updated,file.deleted'),
      seqsWhere((e) => e !== null && 'region' in e && e.region === 'r2' && (e.type === 'file.updated' || e.type === 'file.deleted')),
    );
    assert.deepStrictEqual(await replaySeqs('--from-seq', '10', '--to-seq', '20'), Array.from({ length: 11 }, (_, i) => 10 + i));

    const t1 = Date.parse(events[Math.floor(last / 4)]?.storedAt ?? '');
    const t2 = Date.parse(events[Math.floor(last / 2)]?.storedAt ?? '');
    assert.deepStrictEqual(
      await replaySeqs('--since', new Date(t1).toISOString(), '--until', new Date(t2).toISOString()),
      seqsWhere((_e, m) => Date.parse(m.storedAt) >= t1 && Date.parse(m.storedAt) <= t2),
    );
    const at = decoded[Math.floor(last / 2)]?.at ?? '';
    assert.deepStrictEqual(await replaySeqs('--clock', 'event', '--since', at), seqsWhere((e) => e !== null && Date.parse(e.at) >= Date.parse(at)));

    assert.deepStrictEqual(await replaySeqs('--principal', 'alice'), [policySeq]);
    assert.deepStrictEqual(await replaySeqs('--principal', 'region:r2'), seqsWhere((_e, m) => regionOfSubject(m.subject) === 'r2'), 'proven by the subject');
    assert.deepStrictEqual(
      await replaySeqs('--principal', 'coordinator:c1'),
      seqsWhere((e) => (e?.type === 'policy.set' && e.operator === 'config:c1') || e?.type === 'sync.requested' || e?.type === 'region.health'),
      "the coordinator's own events",
    );
    // Registrations appended with no header: nothing proves who, the claim stays apart.
    const joins = all.filter((r) => r.type === 'region.registered');
    assert.ok(joins.length > 0);
    for (const r of joins) assert.deepStrictEqual([r.principal, r.proven, r.claimed?.startsWith('r')], [null, false, true], `seq ${r.seq}`);
    assert.deepStrictEqual(all.find((r) => r.seq === policySeq)?.claimed, 'alice');
    const joinTable = ok(await jzse(stack, ['replay', '--type', 'region.registered'], { stdout: true })).stdout;
    assert.match(joinTable, /region\.registered\s+\(unproven: predates authentication\)\s+claimed r1: Region r1 @/);
    const invalid = jsonLines(ok(await jzse(stack, ['replay', '--type', 'invalid'])).stdout) as ReplayRow[];
    assert.deepStrictEqual(invalid.map((r) => r.seq), [brokenSeq]);
    assert.equal(invalid[0]?.valid, false);
    assert.match(invalid[0]?.error ?? '', /not valid JSON/);
    assert.ok((await replaySeqs('--region', 'r2')).includes(brokenSeq), 'an undecodable message on r2\'s subject is r2\'s');

    const underR1 = jsonLines(ok(await jzse(stack, ['replay', '--path', '/data/r1/'])).stdout) as ReplayRow[];
    const registeredUnder = new Set(decoded.flatMap((e) => (e?.type === 'file.registered' && e.file.path.startsWith('/data/r1/') ? [e.file.fileId] : [])));
    assert.ok(registeredUnder.size > 10);
    assert.ok(underR1.every((r) => (r.path !== null ? r.path.startsWith('/data/r1/') : r.files.some((f) => registeredUnder.has(f)))));
    assert.deepStrictEqual(
      underR1.filter((r) => r.path !== null).map((r) => r.seq),
      seqsWhere((e) => (e?.type === 'file.registered' || e?.type === 'file.updated') && e.file.path.startsWith('/data/r1/')),
    );
    assert.deepStrictEqual(await replaySeqs('--type', 'file.registered', '--limit', '7'), seqsWhere((e) => e?.type === 'file.registered').slice(0, 7));
  });

  test('replay: a table and a progress bar (rate, ETA) on a terminal; JSON Lines and no bar when piped', async () => {
    const tty = ok(await jzse(stack, ['replay', '--to-seq', '50'], { stdout: true, stderr: true, columns: 120 }));
    const rows = tty.stdout.trimEnd().split('\n');
    assert.match(rows[0] ?? '', /^\s+SEQ {2}STORED\s+TYPE\s+PRINCIPAL\s+FILE\s+DETAIL$/);
    assert.equal(rows.length, 51);
    assert.ok(rows.every((r) => r.length <= 120), 'rows fit the terminal');
    assert.match(rows[1] ?? '', /^\s+1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}region\.registered\s+\(unproven: predates authentication\)\s+claimed r/);
    assert.match(tty.stderr, /replay \[.*\] \d+% \| \d+\/50 events \| [\d,-]+ events\/s \| ETA /);

    const piped = ok(await jzse(stack, ['replay', '--to-seq', '50']));
    assert.equal(piped.stderr, '', 'no progress bar, nothing else on stderr');
    assert.equal(jsonLines(piped.stdout).length, 50);
    const quiet = ok(await jzse(stack, ['replay', '--to-seq', '50', '--no-progress'], { stdout: true, stderr: true }));
    assert.doesNotMatch(quiet.stderr, /ETA/);
    const forced = ok(await jzse(stack, ['replay', '--to-seq', '5', '--format', 'table']));
    assert.match(forced.stdout, /^\s+SEQ {2}STORED/);
  });

  test("history: a file's versions, writers, clocks, conflicts with their resolution, and copies over time", async () => {
    const folded = foldFirst(last);
    const counts = new Map<string, number>();
    for (const c of folded.conflicts.values()) counts.set(c.fileId, (counts.get(c.fileId) ?? 0) + 1);
    // The most conflicted file that also has acks in its history (which files those are depends on
    // how the concurrent publishers interleaved).
    const acked = (id: string) => decoded.some((e) => e?.type === 'sync.acked' && names(e, id));
    const [fileId] = [...counts.entries()].sort((a, b) => b[1] - a[1]).find(([id]) => acked(id)) ?? [];
    assert.ok(fileId !== undefined, 'some conflicted file has acks');
    const file = folded.files.get(fileId);
    assert.ok(file);

    type Entry = {
      fileId: string; seq: number; type: string; by: string; principal: string | null; outcome: string; clock: unknown;
      conflicts?: Array<{ id: string; resolution: { winner: string } | null }>;
      file?: { versions: number; clock: unknown; locations: Array<{ region: string; state: string }> };
    };
    const entries = jsonLines(ok(await jzse(stack, ['history', fileId])).stdout) as Entry[];
    assert.deepStrictEqual(entries.map((e) => e.seq), events.filter((_, i) => names(decoded[i] ?? null, fileId)).map((m) => m.seq));
    assert.ok(entries.every((e) => e.fileId === fileId));
    assert.equal(entries.filter((e) => e.outcome === 'applied' || e.outcome === 'conflict').length, file.versions, 'one entry per version');
    const conflicts = entries.flatMap((e) => e.conflicts ?? []);
    assert.deepStrictEqual(
      conflicts.map((c) => [c.id, c.resolution?.winner]).sort(),
      [...folded.conflicts.values()].filter((c) => c.fileId === fileId).map((c) => [c.id, c.resolution?.winner]).sort(),
    );
    const lastState = entries.filter((e) => e.file !== undefined).at(-1)?.file;
    assert.deepStrictEqual(lastState?.clock, file.clock);
    assert.deepStrictEqual(lastState?.locations.map((l) => [l.region, l.state]), file.locations.map((l) => [l.regionId, l.state]));
    assert.ok(entries.some((e) => e.type === 'sync.acked' && e.by !== undefined), 'acks are part of the history');
    for (const e of entries.filter((x) => (x.type ?? '').startsWith('file.') || x.type === 'sync.acked')) {
      assert.equal(e.principal, `region:${e.by}`, `seq ${e.seq}: proven by the region's own subject`);
    }

    const table = ok(await jzse(stack, ['history', fileId], { stdout: true })).stdout;
    assert.match(table, new RegExp(`^file ${fileId} {2}\\(${entries.length} events up to sequence ${last}\\)`));
    assert.match(table, /conflict \S+: local \S+ \(r\d \{.*\}\) vs remote \S+ \(r\d \{.*\}\), last_writer_wins: resolved, winner (local|remote)/);
    assert.match(table, /version \d+: \S+ from r\d, principal region:r\d, clock \{/);
  });

  test('status: leader, checkpoint against the stream, regions with health, sync lag and pending, conflicts, rejected', async () => {
    const folded = foldFirst(last);
    type Status = {
      leader: { id: string } | null; checkpoint: number; streamLastSeq: number; lag: number; files: number;
      regions: Array<{ id: string; state: string; pending: number; syncLag: number }>;
      conflicts: { total: number; open: number }; rejected: { total: number; latest: Array<{ seq: number }> }; snapshots: number[];
    };
    const s = json<Status>(await jzse(stack, ['status']));
    assert.equal(s.leader?.id, 'c1');
    assert.equal(s.checkpoint, last);
    assert.equal(s.streamLastSeq, last);
    assert.equal(s.lag, 0);
    assert.equal(s.files, folded.files.size);
    assert.deepStrictEqual(s.regions.map((r) => r.id), ['r1', 'r2', 'r3']);
    for (const r of s.regions) {
      const region = folded.regions.get(r.id);
      assert.equal(r.state, region?.status.state);
      assert.equal(r.syncLag, region?.status.syncLag);
      assert.equal(r.pending, [...folded.pending.values()].filter((p) => p.regionId === r.id).length);
    }
    assert.equal(s.conflicts.total, folded.conflicts.size);
    assert.equal(s.rejected.total, folded.rejected.size);
    assert.equal(s.rejected.latest[0]?.seq, Math.max(...[...folded.rejected.values()].map((r) => r.seq)));
    const text = ok(await jzse(stack, ['status'], { stdout: true })).stdout;
    assert.match(text, new RegExp(`view +${live()}: checkpoint ${last} \\(projection lag 0 events\\)`));
    assert.match(text, /leader +c1 \(1 candidate\)/);
    assert.match(text, /REGION +ACTIVE +STATE +SYNC LAG +PENDING/);
  });

  test('diff lists the records that differ between two points in time; equal views exit 0', async () => {
    const a = Math.floor(last / 2);
    const b = a + 25;
    const r = await jzse(stack, ['diff', `at:${a}`, `at:${b}`]);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout) as { equal: boolean; a: { seq: number }; b: { seq: number }; differences: Diff[] };
    const ea = viewEntries('', foldFirst(a));
    const eb = viewEntries('', foldFirst(b));
    const changed = [...new Set([...ea.keys(), ...eb.keys()])].filter((k) => ea.get(k) !== eb.get(k)).map((k) => k.slice(1)).sort();
    assert.equal(result.equal, false);
    assert.deepStrictEqual([result.a.seq, result.b.seq], [a, b]);
    assert.deepStrictEqual(result.differences.map((d) => d.key), changed);
    assert.ok(result.differences.some((d) => d.key.startsWith('files/') && d.change === 'changed' && (d.fields ?? []).some((f) => f.field === 'clock')));

    const text = await jzse(stack, ['diff', `at:${a}`, `at:${b}`], { stdout: true });
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`${changed.length} records differ`));
    assert.match(text.stdout, /~ files\/\S+ {2}\(changed\)\n {6}\w+: .* → /);
    const equal = await jzse(stack, ['diff', `at:${last}`, 'live']);
    assert.equal(equal.code, 0, equal.stdout);
  });

  test('verify catches hand-corrupted keys; repair is refused under a leader, then fixes them through the fence; a new leader resumes from it', async () => {
    assert.equal((await jzseProcess(stack, ['verify'])).code, 0);
    const folded = foldFirst(last);
    const [fileId, record] = [...folded.files.entries()][3] ?? [];
    const [pendingId] = [...folded.pending.keys()];
    assert.ok(fileId !== undefined && record !== undefined && pendingId !== undefined);
    const fileKey = recordKey(live(), 'files', fileId);
    await stack.etcdClient.put(fileKey).value(canonicalJson({ ...record, size: record.size + 1 }));
    await stack.etcdClient.put(recordKey(live(), 'files', 'evil')).value('not json');
    await stack.etcdClient.delete().key(recordKey(live(), 'pending', pendingId));

    const bad = await jzseProcess(stack, ['verify']);
    assert.equal(bad.code, 1, bad.stderr);
    const report = JSON.parse(bad.stdout) as { equal: boolean; differences: Diff[] };
    assert.equal(report.equal, false);
    assert.deepStrictEqual(report.differences.map((d) => [d.key, d.change]), [
      [`files/${encodeURIComponent(fileId)}`, 'changed'],
      ['files/evil', 'only-in-a'],
      [`pending/${encodeURIComponent(pendingId)}`, 'only-in-b'],
    ].sort());
    assert.deepStrictEqual(report.differences.find((d) => d.change === 'changed')?.fields?.map((f) => f.field), ['size']);
    const text = await jzse(stack, ['verify'], { stdout: true });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /DIFFERENT: 3 records differ/);
    assert.match(text.stdout, /size: \d+ → \d+/);

    // While the coordinator leads, the live view has one writer: repair writes nothing.
    const revisionBefore = await revision();
    for (const args of [['repair'], ['rebuild', '--live']]) {
      const refused = await jzse(stack, args);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /a leader holds the projector election \(c1, 1 candidate\)/);
    }
    assert.equal(await revision(), revisionBefore, 'a refused repair changed nothing');

    await coordinator?.stop();
    coordinator = undefined;
    const electionPrefix = `${root()}/election/projector/`;
    await waitFor(async () => (await stack.etcdClient.getAll().prefix(electionPrefix).count()) === 0, { what: 'the election to be empty' });

    const dry = json<{ dryRun: boolean; differences: Diff[]; keysWritten: number }>(await jzse(stack, ['repair', '--dry-run']));
    assert.equal(dry.differences.length, 3);
    assert.equal(dry.keysWritten, 0);
    assert.equal((await jzse(stack, ['verify'])).code, 1, 'a dry run wrote nothing');

    const repaired = json<{ differences: Diff[]; keysWritten: number; seq: number }>(await jzseProcess(stack, ['repair']));
    assert.equal(repaired.differences.length, 3);
    assert.equal(repaired.keysWritten, 4, 'three records and the checkpoint');
    assert.equal(repaired.seq, last);
    assert.equal(await stack.etcdClient.getAll().prefix(electionPrefix).count(), 0, 'jzse resigned');
    // The checkpoint was written last: no view key is newer than it, so the next leader's recovery keeps the repair.
    const kvs = (await stack.etcdClient.getAll().prefix(`${live()}/`).exec()).kvs;
    const checkpointRevision = BigInt(kvs.find((kv) => kv.key.toString() === `${live()}/checkpoint`)?.mod_revision ?? '0');
    assert.ok(kvs.every((kv) => BigInt(kv.mod_revision) <= checkpointRevision));
    assert.equal((await jzse(stack, ['verify'])).code, 0);

    coordinator = await startInProcess(stack, 'c2');
    await publishWorkload(stack, ['r4'], 40, { seed: 5 });
    await waitForCaughtUp(stack);
    assert.deepStrictEqual(asObject(await readEtcdView(stack)), asObject(expectedEntries(stack, await foldStream(stack))));
    assert.equal(ok(await jzse(stack, ['verify', '--strict'])).code, 0);
  });
});

describe('jzse status while the leader commits', () => {
  let stack: Stack;
  let coordinator: Coordinator | undefined;
  before(async () => {
    stack = await startStack();
    coordinator = await startInProcess(stack, 'c1');
    await publishWorkload(stack, ['r1', 'r2'], 30, { seed: 41 });
    await waitForCaughtUp(stack);
  });
  after(async () => {
    await coordinator?.stop();
    await stack.stop();
  });

  test('a batch committed between its reads never shows a checkpoint past the stream end', async () => {
    // The interleaving that once showed checkpoint 11142 of a stream ending at 11141, made to happen:
    // the stream's end is read, then the leader stores and commits one more event, and only then
    // does etcd answer (reads issued after the stream's end wait for that commit).
    let endRead = false;
    let committed: Promise<void> = Promise.resolve();
    const commitOneMore = async (after: number): Promise<void> => {
      await appenderFor(stack).append(fileRegistered({ id: 'status-race', file: { fileId: 'status-race' }, clock: { r1: 99 }, region: 'r1' }));
      await waitFor(async () => (await checkpointOf(stack)) > after, { what: `the leader to commit past ${after}` });
    };
    class Racing extends AuditContext {
      override async nats(): Promise<StreamAccess> {
        const access = await super.nats();
        const streams = new Proxy(access.jsm.streams, {
          get: (target, prop, receiver) => prop !== 'info' ? Reflect.get(target, prop, receiver) as unknown : async (...args: Parameters<typeof target.info>) => {
            if (endRead) return target.info(...args);
            endRead = true;
            let release = () => undefined as void;
            committed = new Promise<void>((resolve) => (release = resolve));
            try {
              const info = await target.info(...args);
              await commitOneMore(info.state.last_seq);
              return info;
            } finally {
              release();
            }
          },
        });
        return { ...access, jsm: new Proxy(access.jsm, { get: (t, p, r) => (p === 'streams' ? streams : Reflect.get(t, p, r) as unknown) }) };
      }

      override async etcd(): Promise<Etcd3> {
        const client = await super.etcd();
        const gated = <B extends object>(builder: B): B => new Proxy(builder, {
          get: (target, prop, receiver) => {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== 'function') return value;
            if (!['exec', 'string', 'strings', 'count', 'keys', 'json', 'buffer', 'number'].includes(String(prop))) {
              return (...args: unknown[]) => {
                const result = (value as (...a: unknown[]) => unknown).apply(target, args);
                return result === target ? (receiver as unknown) : result;
              };
            }
            return async (...args: unknown[]) => {
              if (endRead) await committed;
              return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            };
          },
        });
        return new Proxy(client, {
          get: (target, prop, receiver) => {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if ((prop === 'get' || prop === 'getAll') && typeof value === 'function') {
              return (...args: unknown[]) => gated((value as (...a: unknown[]) => object).apply(target, args));
            }
            return value;
          },
        });
      }
    }
    const ctx = new Racing(auditConfig(cliEnv(stack)));
    try {
      const before = await streamLastSeq(stack);
      const s = await status(ctx);
      assert.ok(endRead, 'status read the stream through the racing context');
      assert.ok((await checkpointOf(stack)) > before, 'a batch was committed while status was reading');
      assert.ok(s.checkpoint !== undefined && s.checkpoint <= s.streamLastSeq, `checkpoint ${s.checkpoint} within the stream's end ${s.streamLastSeq}`);
      assert.equal(s.checkpointAhead, false);
      assert.equal(s.lag, s.streamLastSeq - s.checkpoint);
      // Files are counted in the view at that checkpoint: the file the later batch added is not among them.
      assert.equal(s.files, (await foldStream(stack, s.checkpoint)).files.size);
    } finally {
      await ctx.close();
    }
  });

  test('a checkpoint truly past the stream end (the stream lost events) is reported as such, not as a lag', async () => {
    const last = await streamLastSeq(stack);
    await stack.etcdClient.put('/ahead/view/checkpoint').value(canonicalJson({ seq: last + 5 }));
    const s = json<{ checkpoint: number; streamLastSeq: number; lag: number; checkpointAhead: boolean }>(await jzse(stack, ['status', '--etcd-prefix', '/ahead']));
    assert.deepEqual([s.checkpoint, s.streamLastSeq, s.lag, s.checkpointAhead], [last + 5, last, 0, true]);
    const text = ok(await jzse(stack, ['status', '--etcd-prefix', '/ahead'], { stdout: true })).stdout;
    assert.match(text, new RegExp(`checkpoint ${last + 5} is PAST the stream's end: the stream lost events the view holds`));
  });
});

describe('jzse replay of a long history', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  test('200,000 events through bin/jzse to a pipe: valid JSON Lines, in order, resident memory under 200 MB', async (t) => {
    const publishStarted = performance.now();
    const total = await publishBulk(stack, 200_000);
    const published = performance.now();
    assert.equal(total, 200_001);

    const child = spawn(JZSE_BIN, ['replay', '--stats'], { cwd: stack.dir, env: cliEnv(stack), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The test's own sample of the process's peak resident set (Linux), next to the CLI's report.
    let vmHwmKb = 0;
    const sampler = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        vmHwmKb = Math.max(vmHwmKb, Number(match?.[1] ?? 0));
      } catch {
        // not Linux, or the process has exited
      }
    }, 100);
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    // Bounded: a replay that stalls is killed (its stdout then ends) and named, not waited on forever.
    const killer = setTimeout(() => child.kill('SIGKILL'), REPLAY_BOUND_MS);

    let count = 0;
    let rest = '';
    const check = (line: string) => {
      const record = JSON.parse(line) as ReplayRow;
      count += 1;
      assert.equal(record.seq, count);
      assert.equal(record.valid, true);
    };
    for await (const chunk of child.stdout.setEncoding('utf8') as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) check(line);
    }
    const code = await withTimeout(exited, 10_000, 'jzse replay to exit once its output ended');
    clearTimeout(killer);
    clearInterval(sampler);
    assert.notEqual(child.signalCode, 'SIGKILL', `jzse replay of ${total} events finished within ${REPLAY_BOUND_MS} ms`);
    assert.equal(code, 0, stderr);
    assert.equal(rest, '', 'the output ends with a newline');
    assert.equal(count, total);

    const statsJson = /jzse: stats (\{.*\})/.exec(stderr)?.[1];
    assert.ok(statsJson, `--stats reported: ${stderr}`);
    const reported = JSON.parse(statsJson) as { maxRssBytes: number; records: number };
    t.diagnostic(`published in ${((published - publishStarted) / 1000).toFixed(1)} s; replayed in ${((performance.now() - published) / 1000).toFixed(1)} s; ` +
      `peak RSS ${(reported.maxRssBytes / MB).toFixed(1)} MB (reported), VmHWM ${(vmHwmKb / 1024).toFixed(1)} MB (sampled)`);
    assert.equal(reported.records, total);
    assert.ok(reported.maxRssBytes > 0 && reported.maxRssBytes < 200 * MB, `peak RSS ${(reported.maxRssBytes / MB).toFixed(1)} MB`);
    if (vmHwmKb > 0) assert.ok(vmHwmKb * 1024 < 200 * MB, `VmHWM ${(vmHwmKb / 1024).toFixed(1)} MB`);
    assert.doesNotMatch(stderr, /ETA|\r/, 'no progress bar in piped output');
  });
});
