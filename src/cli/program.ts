// The `jzse` command line: every command parses its flags, calls one function of src/audit and
// renders the result (aligned text on a terminal, JSON when piped or asked). Exit codes: src/audit/errors.ts.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AuditContext, auditConfig } from '../audit/context.js';
import { apiTarget } from './api.js';
import { describeSource, diffEntries, loadSource, parseSource, SOURCE_FORMS } from '../audit/diff.js';
import { AuditError, EXIT, usage } from '../audit/errors.js';
import { fileHistory } from '../audit/history.js';
import { parsePoint, parseSeq, parseTime, type Point } from '../audit/points.js';
import { rebuild, repairLive, takeSnapshot, type RebuildSummary, type RepairSummary, type SnapshotSummary } from '../audit/rebuild.js';
import { checkTypes, planReplay, replay, REPLAY_TYPES, shownPrincipal, type ReplayFilter } from '../audit/replay.js';
import { listRejections } from '../audit/rejections.js';
import { listSnapshots } from '../audit/snapshots.js';
import { REJECTION_CODES, type RejectionCode } from '../../projections/rejection.js';
import { status } from '../audit/status.js';
import { verifyLive } from '../audit/verify.js';
import type { CliIo } from './io.js';
import { addIdentityCommands, addNatsConfigCommand } from './identity.js';
import { brief, chooseFormat, Writer, type Format } from './output.js';
import { ProgressBar } from './progress.js';
import {
  diffLines, historyEntryLines, historyHeader, historyTable, replayRow, replayTable, statusLines, summaryLines, verifyLines,
} from './render.js';

type Globals = {
  config?: string;
  natsUrl?: string;
  etcd?: string;
  etcdPrefix?: string;
  stream?: string;
  format: string;
  json?: boolean;
  progress: boolean;
  stats?: boolean;
  token?: string;
};

/** Wraps a parser of src/audit so a bad value is commander's "invalid argument" (exit 2). */
const arg = <T>(parse: (text: string, what: string) => T, what: string) => (text: string): T => {
  try {
    return parse(text, what);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};
const positive = (text: string): number => {
  const n = parseSeq(text, 'value');
  if (n < 1) throw usage('expected an integer >= 1');
  return n;
};

const rejectionCode = (text: string, what: string): RejectionCode => {
  if (!(REJECTION_CODES as readonly string[]).includes(text)) throw usage(`${what}: "${text}" is not one of ${REJECTION_CODES.join(', ')}`);
  return text as RejectionCode;
};

const CLOCK_NOTE = `
--at <time> is the stream's store time (JetStream's timestamp of each stored event), not the
events' own "at". Store times are one clock (the stream leader's) and grow with the sequence, so
"up to T" is a prefix of the log: exactly a view the projector passed through. Events' own
timestamps come from each region's clock, may be skewed, and are not in sequence order; folding
"events with at <= T" would give a view that never existed. A time selects every event stored at
or before it (millisecond precision), e.g. --at 2026-11-25T10:00:00Z or --at 2026-11-25T11:00:00+01:00.`;

const EXIT_CODES = `
Exit codes: 0 ok; 1 views differ (verify, diff); 2 wrong argument, unknown flag, bad time, sequence
beyond the stream or invalid configuration; 3 not found; 4 refused (a leader holds the election, or a
target overlaps the live view); 5 NATS or etcd unreachable, or another failure.`;

const memory = () => {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external };
};

const example = (...lines: string[]): string => `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const started = performance.now();
  const out = new Writer(io.stdout);
  const contexts: AuditContext[] = [];
  const stats: Record<string, unknown> = {};
  /** Set by verify and diff when the views differ; errors set it in the catch below. */
  let exitCode: number = EXIT.ok;

  type Session = { ctx: AuditContext; format: Format; width: number; bar: (label: string) => ProgressBar; warn: (m: string) => void };
  const session = (cmd: Command): Session => {
    const g = cmd.optsWithGlobals<Globals>();
    const config = auditConfig(io.env, {
      ...(g.config === undefined ? {} : { config: g.config }),
      ...(g.natsUrl === undefined ? {} : { natsUrl: g.natsUrl }),
      ...(g.etcd === undefined ? {} : { etcd: g.etcd }),
      ...(g.etcdPrefix === undefined ? {} : { etcdPrefix: g.etcdPrefix }),
      ...(g.stream === undefined ? {} : { stream: g.stream }),
    });
    // The same token as the gRPC commands: with NATS authorization it is also the CLI's NATS user.
    const { token } = apiTarget(config, io.env, g.token === undefined ? {} : { token: g.token });
    const ctx = new AuditContext(config, token === undefined ? {} : { token });
    contexts.push(ctx);
    stats['command'] = cmd.name();
    return {
      ctx,
      format: chooseFormat(g.format, g.json, io.stdout),
      width: Math.max(80, io.stdout.columns ?? 160),
      bar: (label) => ProgressBar.for(io.stderr, g.progress, label),
      warn: (m) => void io.stderr.write(`jzse: warning: ${m}\n`),
    };
  };

  /** Runs `work` with a progress bar that is always stopped. */
  const withBar = async <T>(s: Session, label: string, work: (bar: ProgressBar) => Promise<T>): Promise<T> => {
    const bar = s.bar(label);
    try {
      return await work(bar);
    } finally {
      bar.stop();
    }
  };

  const program = new Command('jzse')
    .description('Audit and repair the JzSE coordinator: replay the event history, rebuild and verify views, snapshots, status.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage and an example)')
    .option('--config <file>', 'configuration file (default: $JZSE_CONFIG or ./jzse.yaml)')
    .option('--nats-url <url>', 'NATS server, e.g. nats://127.0.0.1:4222, or a cluster\'s comma-separated (overrides nats.url / JZSE_NATS_URL)')
    .option('--etcd <endpoints>', 'etcd endpoints, comma-separated (overrides etcd.endpoints / JZSE_ETCD_ENDPOINTS)')
    .option('--etcd-prefix <prefix>', "the coordinator's etcd prefix (overrides etcd.prefix / JZSE_ETCD_PREFIX)")
    .option('--stream <name>', 'event stream (overrides nats.stream / JZSE_NATS_STREAM)')
    .addOption(new Option('--format <format>', 'output format: table on a terminal, JSON (Lines) when piped').choices(['auto', 'table', 'json']).default('auto'))
    .option('--json', 'same as --format json')
    .option('--no-progress', 'never show a progress bar (one is shown only when stderr is a terminal)')
    .option('--stats', 'at exit, print {"maxRssBytes","seconds",...} as JSON on stderr')
    .option('--grpc <host:port>', "the coordinator's gRPC API, for whoami, principal and token (default: grpc.host:grpc.port)")
    .option('--token <token>', 'bearer token for the gRPC API, and the NATS user reading the stream where nats.user is not set (default: $JZSE_TOKEN, else the admin token file the first start wrote)')
    .addHelpText('after', `${example('jzse status --nats-url nats://127.0.0.1:4222 --etcd http://127.0.0.1:2379', 'jzse replay --file f1 | jq .event.clock')}${EXIT_CODES}`);

  program
    .command('replay')
    .description('Stream the stored history in sequence order, filtered: a table on a terminal, JSON Lines when piped.')
    .option('--file <id>', "events naming this file: its changes, acks of it, resolutions of its conflicts")
    .option('--path <prefix>', 'events of files whose path starts with <prefix> (deletes and acks follow the last path seen)')
    .option('--region <id>', "events of this region (its own events; undecodable ones on its change subject)")
    .option('--type <types>', `comma-separated event types: ${REPLAY_TYPES.join(', ')}`, arg((t) => checkTypes(t.split(',').map((x) => x.trim()).filter((x) => x !== '')), '--type'))
    .option('--from-seq <n>', 'first sequence', arg(parseSeq, '--from-seq'))
    .option('--to-seq <n>', 'last sequence', arg(parseSeq, '--to-seq'))
    .option('--since <time>', 'from this time (RFC 3339 with zone), inclusive', arg(parseTime, '--since'))
    .option('--until <time>', 'up to this time (RFC 3339 with zone), inclusive', arg(parseTime, '--until'))
    .addOption(new Option('--clock <clock>', "which time --since/--until compare: the stream's store time, or the event's own at").choices(['stored', 'event']).default('stored'))
    .option('--principal <name>', 'events whose proven publisher is this (region:<id>, coordinator:<id>, an API principal)')
    .option('--limit <n>', 'stop after <n> matching events', arg(positive, '--limit'))
    .addHelpText('after', example(
      'jzse replay --region eu-west --type file.updated,file.deleted --since 2026-11-25T00:00:00Z',
      'jzse replay --file f00042 --json > f00042.jsonl',
      'jzse replay --type invalid --format table',
    ))
    .action(async (o: { file?: string; path?: string; region?: string; type?: string[]; fromSeq?: number; toSeq?: number; since?: number; until?: number; clock: 'stored' | 'event'; principal?: string; limit?: number }, cmd: Command) => {
      const s = session(cmd);
      const filter: ReplayFilter = {
        fileId: o.file, pathPrefix: o.path, region: o.region, types: o.type, fromSeq: o.fromSeq, toSeq: o.toSeq,
        since: o.since, until: o.until, clock: o.clock, principal: o.principal,
      };
      const access = await s.ctx.nats();
      const plan = await planReplay(access, filter);
      const table = s.format === 'table' ? replayTable(s.width) : undefined;
      let shown = 0;
      await withBar(s, 'replay', async (bar) => {
        if (table !== undefined) await out.line(table.header());
        for await (const batch of replay(access, filter, plan, bar.update)) {
          if (batch.length === 0) continue;
          const take = o.limit === undefined ? batch : batch.slice(0, o.limit - shown);
          const text = take.map((r) => `${table === undefined ? JSON.stringify(r) : replayRow(table, r)}\n`).join('');
          bar.clearLine();
          await out.write(text);
          shown += take.length;
          if (out.done || (o.limit !== undefined && shown >= o.limit)) break;
        }
      });
      stats['records'] = shown;
      if (table !== undefined) io.stderr.write(`${shown} matching event${shown === 1 ? '' : 's'} in sequences ${plan.fromSeq}..${plan.toSeq} (stream last ${plan.last})\n`);
    });

  program
    .command('history')
    .description("One file's life: every version, who and which region wrote it, vector clocks, conflicts and their resolution, copies and pending syncs over time.")
    .argument('<file>', 'the file id')
    .addHelpText('after', example('jzse history f00042-r1', 'jzse history f00042-r1 --json | jq "select(.outcome == \\"conflict\\")"'))
    .action(async (fileId: string, _o: unknown, cmd: Command) => {
      const s = session(cmd);
      const access = await s.ctx.nats();
      const h = await withBar(s, 'fold', (bar) => fileHistory(access, fileId, bar.update));
      stats['records'] = h.entries.length;
      if (s.format === 'json') {
        for (const e of h.entries) await out.json({ fileId, ...e });
        return;
      }
      const t = historyTable(s.width);
      await out.write([...historyHeader(h), '', t.header(), ...h.entries.flatMap((e) => historyEntryLines(t, e, s.width))].join('\n') + '\n');
    });

  const printRebuild = async (s: Session, r: RebuildSummary | SnapshotSummary, verb: string): Promise<void> => {
    if (s.format === 'json') return out.json(r);
    const lines = [
      `${verb} the view at sequence ${r.at.seq}${r.at.storedAt === null ? '' : ` (stored ${r.at.storedAt})`} into ${r.target}`,
      `  ${r.fromSnapshot === null ? 'from sequence 1' : `from snapshot ${r.fromSnapshot.seq} (${r.fromSnapshot.source})`}: ${r.eventsFolded} events folded in ${r.seconds.toFixed(1)} s; stream last sequence ${r.streamLastSeq}`,
      ...('keysWritten' in r ? [`  keys written ${r.keysWritten}`] : []),
      ...('written' in r && !r.written ? ['  an identical snapshot was already stored: kept'] : []),
      ...summaryLines(r),
    ];
    return out.write(`${lines.join('\n')}\n`);
  };

  const printRepair = async (s: Session, r: RepairSummary, limit: number): Promise<void> => {
    if (s.format === 'json') return out.json(r);
    const lines = [
      `${r.dryRun ? 'dry run: would repair' : 'repaired'} the live view ${r.target}: checkpoint ${r.checkpointBefore ?? 'none'} → ${r.seq} (stream last ${r.streamLastSeq})`,
      `  ${r.differences.length} record${r.differences.length === 1 ? '' : 's'} differed from the fold (- only in the live view, + only in the fold, ~ changed: live → fold)`,
      ...diffLines(r.differences, 'the live view', 'the fold', limit),
      `  ${r.dryRun ? 'nothing written' : `${r.keysWritten} keys written through the fenced path, the checkpoint last`}`,
      ...summaryLines(r),
    ];
    return out.write(`${lines.join('\n')}\n`);
  };

  const repairCommand = async (s: Session, o: { snapshots: boolean; dryRun?: boolean; limit: number }): Promise<void> => {
    const r = await withBar(s, 'fold', (bar) => repairLive(s.ctx, { useSnapshots: o.snapshots, onProgress: bar.update, warn: s.warn, dryRun: o.dryRun === true }));
    await printRepair(s, r, o.limit);
  };

  program
    .command('rebuild')
    .description("Fold the stream up to a point into a place of its own (an etcd prefix or a file), without touching the live view or the projecting leader; print a summary.")
    .option('--at <seq|time>', "a stream sequence, or a time = the stream's STORE time (see below); default: the stream's last sequence", arg(parsePoint, '--at'))
    .option('--into <prefix>', 'etcd prefix to write the view under (default: <etcd-prefix>/rebuilds/seq-<N>)')
    .option('--out <file>', 'write a view document (JSON Lines) to this file instead of etcd')
    .option('--snapshot <file>', 'start from this view document (from jzse snapshot --out) instead of a stored snapshot')
    .option('--no-snapshots', 'fold from sequence 1, ignoring stored snapshots')
    .option('--live', 'rebuild the live view itself: the same as jzse repair (see jzse repair --help)')
    .option('--limit <n>', 'with --live: list at most <n> differing records', arg(positive, '--limit'), 50)
    .addHelpText('after', `${example(
      'jzse rebuild --at 120000',
      'jzse rebuild --at 2026-11-25T10:00:00Z --out view-at-10h.jsonl',
      'jzse rebuild --at 120000 --into /jzse/rebuilds/incident-42 && jzse diff etcd:/jzse/rebuilds/incident-42 live',
    )}${CLOCK_NOTE}\n`)
    .action(async (o: { at?: Point; into?: string; out?: string; snapshot?: string; snapshots: boolean; live?: boolean; limit: number }, cmd: Command) => {
      const s = session(cmd);
      if (o.live === true) {
        if (o.at !== undefined || o.into !== undefined || o.out !== undefined || o.snapshot !== undefined) {
          throw usage('--live rebuilds the live view up to the stream\'s last sequence: it takes no --at, --into, --out or --snapshot');
        }
        return repairCommand(s, { snapshots: o.snapshots, limit: o.limit });
      }
      if (o.into !== undefined && o.out !== undefined) throw usage('--into and --out: choose one place');
      const r = await withBar(s, 'fold', (bar) => rebuild(s.ctx, {
        ...(o.at === undefined ? {} : { at: o.at }),
        target: o.out !== undefined ? { kind: 'file', path: o.out } : { kind: 'etcd', ...(o.into === undefined ? {} : { prefix: o.into }) },
        useSnapshots: o.snapshots,
        ...(o.snapshot === undefined ? {} : { snapshotFile: o.snapshot }),
        onProgress: bar.update,
        warn: s.warn,
      }));
      await printRebuild(s, r, 'rebuilt');
    });

  program
    .command('repair')
    .description('Make the live view equal to the fold of the whole stream. Only when no coordinator holds the projector election: jzse campaigns itself and writes through the fenced path, the checkpoint last.')
    .option('--dry-run', 'list what would change; write nothing and do not campaign')
    .option('--no-snapshots', 'fold from sequence 1, ignoring stored snapshots')
    .option('--limit <n>', 'list at most <n> differing records', arg(positive, '--limit'), 50)
    .addHelpText('after', `${example('jzse repair --dry-run', 'jzse verify || (systemctl stop jzse-coordinator@* && jzse repair && systemctl start jzse-coordinator@*)')}
While a coordinator leads (or waits in the election), repair is refused with exit code 4 and
nothing is written: the live view has one writer, the elected leader. Stop the coordinators first.
jzse then holds the election for the duration of the repair (a coordinator started meanwhile waits),
every etcd transaction is compared against its own election key (a lost lease stops the writes),
and the checkpoint is written last, so the next leader resumes from a view equal to its checkpoint.
`)
    .action(async (o: { snapshots: boolean; dryRun?: boolean; limit: number }, cmd: Command) => repairCommand(session(cmd), o));

  program
    .command('diff')
    .description('Compare two views record by record and list what differs, file by file. Exit 1 if they differ.')
    .argument('<a>', `a view: ${SOURCE_FORMS}`)
    .argument('[b]', 'the other view', 'live')
    .option('--no-snapshots', 'fold at:<point> views from sequence 1, ignoring stored snapshots')
    .option('--limit <n>', 'list at most <n> differing records (the JSON output lists all)', arg(positive, '--limit'), 50)
    .addHelpText('after', `${example(
      'jzse diff etcd:/jzse/rebuilds/seq-120000 live',
      'jzse diff at:2026-11-25T09:00:00Z at:2026-11-25T10:00:00Z',
      'jzse diff file:view-at-10h.jsonl snapshot:100000',
    )}\nat:<time> is the stream's store time, as for jzse rebuild --at (see jzse rebuild --help).\n`)
    .action(async (a: string, b: string, o: { snapshots: boolean; limit: number }, cmd: Command) => {
      const s = session(cmd);
      const sa = parseSource(a, '<a>');
      const sb = parseSource(b, '<b>');
      const [va, vb] = await withBar(s, 'fold', async (bar) => [
        await loadSource(s.ctx, sa, '<a>', { useSnapshots: o.snapshots, onProgress: bar.update, warn: s.warn }),
        await loadSource(s.ctx, sb, '<b>', { useSnapshots: o.snapshots, onProgress: bar.update, warn: s.warn }),
      ]);
      const differences = diffEntries(va.entries, vb.entries);
      const side = (v: typeof va) => ({ view: v.label, seq: v.seq ?? null, digest: v.digest, entries: v.entries.size });
      if (s.format === 'json') {
        await out.json({ equal: differences.length === 0, a: side(va), b: side(vb), differences });
      } else {
        const lines = [
          `A  ${describeSource(s.ctx, sa)}: sequence ${va.seq ?? 'none'}, ${va.entries.size} entries, ${va.digest}`,
          `B  ${describeSource(s.ctx, sb)}: sequence ${vb.seq ?? 'none'}, ${vb.entries.size} entries, ${vb.digest}`,
          differences.length === 0
            ? 'equal'
            : `${differences.length} record${differences.length === 1 ? '' : 's'} differ (- only in A, + only in B, ~ changed: A → B)`,
          ...diffLines(differences, 'A', 'B', o.limit),
        ];
        await out.write(`${lines.join('\n')}\n`);
      }
      if (differences.length > 0) exitCode = EXIT.different;
    });

  program
    .command('verify')
    .description('Fold the whole stream and compare it with the live view in etcd (at the view\'s own checkpoint). Exit 1 and list the differences if they are not equal.')
    .option('--strict', 'also fail if the view does not yet reflect the whole stream (projection lag > 0)')
    .option('--limit <n>', 'list at most <n> differing records (the JSON output lists all)', arg(positive, '--limit'), 50)
    .addHelpText('after', example('jzse verify', 'jzse verify --strict --json | jq .differences'))
    .action(async (o: { strict?: boolean; limit: number }, cmd: Command) => {
      const s = session(cmd);
      const r = await withBar(s, 'fold', (bar) => verifyLive(s.ctx, { strict: o.strict === true, onProgress: bar.update, warn: s.warn }));
      if (s.format === 'json') await out.json(r);
      else await out.write(`${verifyLines(r, o.limit).join('\n')}\n`);
      if (!r.equal) exitCode = EXIT.different;
    });

  program
    .command('status')
    .description('Leader, checkpoint against the stream (projection lag), regions with their health and sync lag, open conflicts, rejected events.')
    .option('--rejected <n>', 'show the <n> latest rejected events', arg(positive, '--rejected'), 5)
    .addHelpText('after', example('jzse status', 'jzse status --json | jq .lag'))
    .action(async (o: { rejected: number }, cmd: Command) => {
      const s = session(cmd);
      const r = await status(s.ctx, { latestRejected: o.rejected });
      if (s.format === 'json') await out.json(r);
      else await out.write(`${statusLines(r, s.width).join('\n')}\n`);
    });

  program
    .command('rejections')
    .description('Events the fold refused (or applied in part), newest first, with their code, field and reason; read from the view in etcd.')
    .option('--region <id>', 'only events naming this region')
    .option('--code <code>', `only this rejection code: ${REJECTION_CODES.join(', ')}`, arg(rejectionCode, '--code'))
    .option('--since <time>', 'stored at or after this RFC 3339 time', arg(parseTime, '--since'))
    .option('--until <time>', 'stored before this RFC 3339 time', arg(parseTime, '--until'))
    .option('--limit <n>', 'at most <n> rows', arg(positive, '--limit'), 50)
    .addHelpText('after', example('jzse rejections --region eu-west --code stale', 'jzse rejections --since 2026-11-25T10:00:00Z --json'))
    .action(async (o: { region?: string; code?: RejectionCode; since?: number; until?: number; limit: number }, cmd: Command) => {
      const s = session(cmd);
      const r = await listRejections(s.ctx, {
        ...(o.region === undefined ? {} : { region: o.region }), ...(o.code === undefined ? {} : { code: o.code }),
        ...(o.since === undefined ? {} : { after: o.since }), ...(o.until === undefined ? {} : { before: o.until }),
      }, o.limit);
      if (s.format === 'json') for (const e of r.rejections) await out.json(e);
      else {
        const rows = r.rejections.map((e) => brief(`seq ${e.seq}  ${e.storedAt}  ${e.key}  ${e.type ?? '(undecodable)'}  ${e.region ?? '-'}  by ${shownPrincipal(e.principal ?? null)}  ${e.code}  ${e.reason}`, s.width));
        await out.write(`${[`${r.matching} of ${r.total} rejected events match${r.matching > r.rejections.length ? ` (newest ${r.rejections.length} shown)` : ''}`, ...rows].join('\n')}\n`);
      }
    });

  program
    .command('snapshot')
    .description('Store the view at a sequence as a snapshot (etcd <etcd-prefix>/snapshots, or a file), so rebuilds start from the nearest one instead of sequence 1.')
    .option('--at <seq|time>', "a stream sequence, or the stream's store time (as for rebuild --at); default: the stream's last sequence", arg(parsePoint, '--at'))
    .option('--out <file>', 'write a view document to this file instead of etcd (use it with jzse rebuild --snapshot)')
    .option('--no-snapshots', 'fold from sequence 1 instead of the nearest older snapshot')
    .option('--list', 'list the stored snapshots instead')
    .addHelpText('after', example('jzse snapshot --at 100000', 'jzse snapshot --list', 'jzse snapshot --out view-100000.jsonl --at 100000'))
    .action(async (o: { at?: Point; out?: string; snapshots: boolean; list?: boolean }, cmd: Command) => {
      const s = session(cmd);
      if (o.list === true) {
        const list = await listSnapshots(await s.ctx.etcd(), s.ctx.root);
        if (s.format === 'json') await out.json(list);
        else await out.write(list.length === 0 ? 'no snapshots\n' : list.map((i) => `snapshot ${i.seq}: ${i.entries} entries, ${i.chunks} chunks, ${i.bytes} bytes, ${i.digest}\n`).join(''));
        return;
      }
      const r = await withBar(s, 'fold', (bar) => takeSnapshot(s.ctx, {
        ...(o.at === undefined ? {} : { at: o.at }),
        ...(o.out === undefined ? {} : { out: o.out }),
        useSnapshots: o.snapshots,
        onProgress: bar.update,
        warn: s.warn,
      }));
      await printRebuild(s, r, 'stored');
    });

  const identityCli = { config: (cmd: Command) => session(cmd).ctx.config, format: (cmd: Command) => session(cmd).format, out, env: io.env };
  addIdentityCommands(program, identityCli);
  addNatsConfigCommand(program, { ...identityCli, err: (s) => void io.stderr.write(s) });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (error instanceof AuditError) {
      io.stderr.write(`jzse: ${error.message}\n`);
      exitCode = error.exitCode;
    } else {
      const message = error instanceof Error ? error.message : String(error);
      const endpoints = contexts[0]?.config.etcd.endpoints.join(',') ?? '';
      // etcd3 reports gRPC errors ("14 UNAVAILABLE: ..."): say which server they are about.
      const where = /^\d+ [A-Z_]+: /.test(message) ? `etcd at ${endpoints}: ` : '';
      io.stderr.write(`jzse: ${where}${message}\n`);
      exitCode = EXIT.failed;
    }
  } finally {
    for (const ctx of contexts) await ctx.close();
  }
  if (argv.includes('--stats')) {
    const peakKb = process.resourceUsage().maxRSS;
    io.stderr.write(`jzse: stats ${JSON.stringify({ ...stats, exitCode, seconds: (performance.now() - started) / 1000, maxRssBytes: peakKb * 1024, ...memory() })}\n`);
  }
  return exitCode;
};
