// `npm run bench [-- --quick]`: starts its own nats-server and etcd (one pair per section, on free
// loopback ports in temp folders), measures the raw limits and our figures side by side, prints one
// table and writes bench/results.json. See bench/README.md for what each row means.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { findBinary } from '../src/stack/processes.js';
import { benchEnv, coordinatorEntry, ROOT } from './env.js';
import { ingestSection, memorySection, rawSection, replaySection, stage, stepsSection, type Options, type Refs } from './sections.js';
import { renderNotes, renderTable, row, type Row } from './table.js';

const SECTIONS = ['raw', 'ingest', 'replay', 'reads', 'memory', 'failover', 'steps'] as const;
type Section = (typeof SECTIONS)[number];

const int = (what: string) => (value: string): number => {
  const n = Number(value.replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'));
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what}: expected a positive integer (1000, 10k, 1m), got ${value}`);
  return n;
};
const intList = (what: string) => (value: string): number[] => value.split(',').map((v) => int(what)(v.trim()));
const ttlList = (value: string): string[] => {
  const items = value.split(',').map((v) => v.trim());
  for (const v of items) if (!/^\d+(ms|s)$/.test(v)) throw new InvalidArgumentError(`lease TTL: expected e.g. 2s or 500ms, got ${v}`);
  return items;
};
const sectionList = (value: string): Section[] => {
  const items = value.split(',').map((v) => v.trim());
  for (const v of items) if (!(SECTIONS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected some of ${SECTIONS.join(',')}, got ${v}`);
  return items as Section[];
};

/** Quick: a minute or two on 2 cores. Full: about ten minutes. Any size can be set on its own. */
const PRESETS = {
  quick: {
    runs: 3, rawMessages: 20_000, etcdKeys: 20_000, naiveChanges: 1_000, ingestFiles: 5_000, ingestEvents: 5_000, grpcEvents: 1_500,
    lagSeconds: 2, replayEvents: 30_000, replayFiles: 10_000, replayRuns: 3, liveRuns: 3, liveEvents: 30_000, readSeconds: 1,
    memFiles: [20_000, 50_000], memRuns: 3, leaseTtls: ['2s'], failoverRuns: 3,
  },
  full: {
    runs: 3, rawMessages: 50_000, etcdKeys: 50_000, naiveChanges: 2_000, ingestFiles: 20_000, ingestEvents: 30_000, grpcEvents: 5_000,
    lagSeconds: 5, replayEvents: 1_000_000, replayFiles: 100_000, replayRuns: 3, liveRuns: 2, liveEvents: 200_000, readSeconds: 3,
    memFiles: [100_000, 1_000_000], memRuns: 3, leaseTtls: ['5s'], failoverRuns: 3,
  },
};

const program = new Command()
  .name('npm run bench --')
  .description('JzSE coordinator benchmark: raw JetStream/etcd limits and our figures side by side, on servers it starts itself')
  .option('--quick', 'small sizes: a minute or two on 2 cores')
  .option('--only <sections>', `comma-separated subset of ${SECTIONS.join(',')}`, sectionList)
  .option('--runs <n>', 'runs per figure (median and min–max reported)', int('runs'))
  .option('--regions <n>', 'regions (each change leaves regions−1 pending entries)', int('regions'), 3)
  .option('--window <n>', 'publishes in flight', int('window'), 1000)
  .option('--raw-messages <n>', 'messages per raw publish run', int('raw-messages'))
  .option('--etcd-keys <n>', 'keys per raw etcd run', int('etcd-keys'))
  .option('--naive-changes <n>', 'changes per naive one-txn-per-change run', int('naive-changes'))
  .option('--ingest-files <n>', 'distinct files the ingest changes go round', int('ingest-files'))
  .option('--ingest-events <n>', 'changes per ingest run straight onto NATS', int('ingest-events'))
  .option('--grpc-events <n>', 'changes per ingest run through gRPC', int('grpc-events'))
  .option('--grpc-concurrency <n>', 'gRPC HandleChange calls in flight', int('grpc-concurrency'), 64)
  .option('--lag-seconds <n>', 'seconds per projection-lag run', int('lag-seconds'))
  .option('--replay-events <n>', 'events in the replayed stream', int('replay-events'))
  .option('--replay-files <n>', 'distinct files in the replayed stream', int('replay-files'))
  .option('--replay-runs <n>', 'runs of each replay figure', int('replay-runs'))
  .option('--live-runs <n>', 'runs of the new-leader figure (each folds the whole replay stream)', int('live-runs'))
  .option('--live-events <n>', 'events the live projector is timed over', int('live-events'))
  .option('--read-seconds <n>', 'seconds per read run', int('read-seconds'))
  .option('--read-concurrency <n>', 'concurrent Get callers', int('read-concurrency'), 8)
  .option('--batch-concurrency <n>', 'concurrent BatchGet callers', int('batch-concurrency'), 2)
  .option('--mem-files <list>', 'view sizes (files) for the memory figure, e.g. 100k,1m', intList('mem-files'))
  .option('--mem-runs <n>', 'runs per memory size (at most 2 from 500k files)', int('mem-runs'))
  .option('--lease-ttls <list>', 'leader lease TTLs to fail over with, e.g. 2s,5s', ttlList)
  .option('--failover-runs <n>', 'leader kills per lease TTL', int('failover-runs'))
  .option('--sync-strategy <strategy>', 'sync.default_strategy of the coordinators: the bench\'s regions never ack, so lazy/eager keep the leader re-requesting (see README)', 'on_demand')
  .option('--profile <dir>', 'run coordinator children with --cpu-prof into this folder')
  .option('--coordinator <entry>', 'entry point of coordinator children (default src/main.ts): measure a prototype before/after')
  .option('--json <file>', 'where to write the results', join(ROOT, 'bench', 'results.json'))
  .parse();

type Cli = Partial<Omit<Options, 'log' | 'profileDir'>> & { quick?: boolean; only?: Section[]; profile?: string; coordinator?: string; syncStrategy: string; json: string };
const cli = program.opts<Cli>();
const preset = cli.quick === true ? PRESETS.quick : PRESETS.full;
const log = (line: string): void => void process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const options: Options = {
  ...preset,
  regions: 3, window: 1000, grpcConcurrency: 64, readConcurrency: 8, batchConcurrency: 2,
  ...Object.fromEntries(Object.entries(cli).filter(([k, v]) => v !== undefined && !['quick', 'only', 'profile', 'coordinator', 'syncStrategy', 'json'].includes(k))),
  profileDir: cli.profile,
  log,
};
const only = new Set<Section>(cli.only ?? SECTIONS);
const t0 = performance.now();

const version = (bin: string, args: string[]): string => {
  try {
    return execFileSync(findBinary(bin), args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '?';
  } catch {
    return '(not found)';
  }
};

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? '?',
  memTotalGiB: +(totalmem() / 2 ** 30).toFixed(1),
  memFreeGiB: +(freemem() / 2 ** 30).toFixed(1),
  node: process.version,
  natsServer: version('nats-server', ['--version']),
  etcd: version('etcd', ['--version']),
  loadavgAtStart: loadavg().map((l) => +l.toFixed(2)),
  coordinator: cli.coordinator ?? 'src/main.ts',
  syncStrategy: cli.syncStrategy,
  revision: (() => {
    try {
      return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  })(),
};

const main = async (): Promise<void> => {
  if (cli.coordinator !== undefined) coordinatorEntry.path = resolve(cli.coordinator);
  if (!['eager', 'lazy', 'on_demand'].includes(cli.syncStrategy)) throw new Error(`--sync-strategy: expected eager, lazy or on_demand, got ${cli.syncStrategy}`);
  benchEnv['JZSE_SYNC_DEFAULT_STRATEGY'] = cli.syncStrategy;
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  log(`bench ${cli.quick === true ? '--quick' : '(full)'}: ${[...only].join(', ')} on ${machine.nproc} cores, node ${machine.node}, ${machine.natsServer}, ${machine.etcd}`);
  const refs: Refs = {};
  const rows: Row[] = [];
  // A section that fails is reported as a row and the others still run.
  const attempt = async (section: Section, run: () => Promise<void>): Promise<void> => {
    stage.current = section;
    try {
      await run();
    } catch (error) {
      section = (SECTIONS as readonly string[]).includes(stage.current) ? (stage.current as Section) : section;
      const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
      log(`${section} failed: ${message}`);
      rows.push(row({ section, name: 'SECTION FAILED (figures above it in this section are partial)', unit: '', runs: [], note: message }));
    }
  };
  if (only.has('raw')) await attempt('raw', () => rawSection(options, refs, rows));
  if (only.has('ingest')) await attempt('ingest', () => ingestSection(options, refs, rows));
  if (only.has('replay') || only.has('reads') || only.has('failover')) {
    const parts = { replay: only.has('replay'), reads: only.has('reads'), failover: only.has('failover') };
    await attempt(parts.replay ? 'replay' : parts.reads ? 'reads' : 'failover', () => replaySection(options, refs, parts, rows));
  }
  if (only.has('memory')) await attempt('memory', () => memorySection(options, rows));
  if (only.has('steps')) await attempt('steps', () => stepsSection(options, rows));
  const seconds = (performance.now() - t0) / 1000;
  const order = new Map(SECTIONS.map((s, i) => [s as string, i]));
  rows.sort((a, b) => (order.get(a.section) ?? 99) - (order.get(b.section) ?? 99));
  const table = renderTable(rows);
  const notes = renderNotes(rows);
  process.stdout.write(`\n${table}\n\n${notes}\n\n`);
  const misses = rows.filter((r) => r.met === false).map((r) => `${r.section} / ${r.name}`);
  process.stdout.write(
    `${machine.nproc} cores (${machine.cpu}), ${machine.memTotalGiB} GiB; node ${machine.node}; ${machine.natsServer}; ${machine.etcd}; ` +
      `code ${machine.revision}${machine.coordinator === 'src/main.ts' ? '' : `, coordinators from ${machine.coordinator}`}, sync.default_strategy ${machine.syncStrategy}; ` +
      `load average ${machine.loadavgAtStart.join(' ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end; ${seconds.toFixed(0)} s.\n` +
      `Shared machine: figures are medians of the runs with min–max; expect ±10–30 % between invocations.\n` +
      (misses.length === 0 ? 'All targets met.\n' : `Targets missed: ${misses.join('; ')}\n`),
  );
  writeFileSync(
    cli.json,
    `${JSON.stringify({ when: new Date().toISOString(), seconds, machine: { ...machine, loadavgAtEnd: loadavg() }, options: { ...options, log: undefined }, rows }, null, 2)}\n`,
  );
};

// Ctrl-C or SIGTERM: exit through 'exit', where the servers and coordinator children are killed.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
