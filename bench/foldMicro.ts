// Micro benchmark of the fold alone (no NATS): the replay workload's events, encoded as stored
// messages, folded in batches of 10,000 as `readStream` delivers them. Prints µs per event.
//
//   node --import tsx bench/foldMicro.ts                           # this tree
//   node --import tsx bench/foldMicro.ts --compare /tmp/before-tree  # interleaved child processes
//   node --import tsx bench/foldMicro.ts --check /tmp/before-tree    # same events: views equal?
//
// `--compare` runs each tree in a fresh process, alternating, so load on the shared machine hits both.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { changeGenerator, encodeEvent, regionIds, regionRegistration } from './workload.js';
import type { StoredEvent, View } from '../projections/view.js';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    files: { type: 'string', default: '10000' },
    regions: { type: 'string', default: '3' },
    batch: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    tree: { type: 'string', default: here },
    fn: { type: 'string', default: 'fold' },
    compare: { type: 'string' },
    check: { type: 'string' },
  },
});

type Fold = (view: View, msgs: readonly StoredEvent[]) => View;
type Tree = { readonly fold: Fold; readonly emptyView: () => View };

// .js when this runs compiled (for profiles with function names), .ts under tsx.
const ext = path.extname(fileURLToPath(import.meta.url));

const load = async (tree: string, fn: string): Promise<Tree> => {
  const evolve = (await import(pathToFileURL(path.join(tree, `projections/evolve${ext}`)).href)) as Record<string, unknown>;
  const view = (await import(pathToFileURL(path.join(tree, `projections/view${ext}`)).href)) as { emptyView: () => View };
  const chosen = evolve[fn] as ((v: View, m: readonly StoredEvent[]) => View | { view: View }) | undefined;
  if (chosen === undefined) throw new Error(`${tree}/projections/evolve.ts has no ${fn}`);
  const fold: Fold = (v, m) => { const r = chosen(v, m); return 'files' in r ? r : r.view; };
  return { fold, emptyView: view.emptyView };
};

/** The replay section's stream: regions register, then changes round-robin over the files. */
const messages = (): StoredEvent[] => {
  const events = Number(args.events);
  const regions = regionIds(Number(args.regions));
  const baseAtMs = Date.UTC(2026, 10, 25);
  const gen = changeGenerator({ regions, files: Number(args.files), tag: 'rp', baseAtMs });
  const all = [...regions.map((r) => regionRegistration(r, new Date(baseAtMs).toISOString()))];
  while (all.length < events) all.push(gen.next());
  // Stored a little after each event's own time, as JetStream would.
  return all.map((e, i) => {
    const { subject, data } = encodeEvent(e);
    return { seq: i + 1, subject, storedAt: new Date(baseAtMs + i + 5).toISOString(), data };
  });
};

const foldAll = (t: Tree, msgs: readonly StoredEvent[]): View => {
  const batch = Number(args.batch);
  let view = t.emptyView();
  for (let i = 0; i < msgs.length; i += batch) view = t.fold(view, msgs.slice(i, i + batch));
  return view;
};

const runOne = async (): Promise<void> => {
  const t = await load(args.tree, args.fn);
  const msgs = messages();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < Number(args.repeat); r++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    foldAll(t, msgs);
    const used = process.cpuUsage(cpuStarted);
    wall.push(((performance.now() - started) * 1000) / msgs.length);
    cpu.push((used.user + used.system) / msgs.length);
  }
  console.log(JSON.stringify({ tree: args.tree, fn: args.fn, events: msgs.length, usPerEvent: wall, cpuUsPerEvent: cpu }));
};

const compare = (other: string): void => {
  const trees = [other, here];
  const results = new Map<string, number[]>(trees.map((t) => [t, []]));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const passed = ['events', 'files', 'regions', 'batch', 'repeat', 'fn'].flatMap((k) => [`--${k}`, String(args[k as keyof typeof args])]);
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...passed, '--tree', tree], { encoding: 'utf8', cwd: here });
      if (child.status !== 0) throw new Error(`${tree}: ${child.stderr}`);
      const line = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { usPerEvent: number[]; cpuUsPerEvent: number[] };
      // CPU time, not wall time: on the shared machine, waiting for a core is not the fold's cost.
      // The first repetition includes warm-up (JIT); the best of the rest is the least disturbed.
      const best = Math.min(...line.cpuUsPerEvent.slice(1));
      results.get(tree)?.push(best);
      const show = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(' ');
      console.log(`round ${round + 1} ${tree}: CPU ${show(line.cpuUsPerEvent)}, wall ${show(line.usPerEvent)} µs/event`);
    }
  }
  for (const [tree, xs] of results) {
    console.log(`${tree}: best ${Math.min(...xs).toFixed(2)} CPU µs/event (${(1e6 / Math.min(...xs) / 1000).toFixed(1)}k events/s), rounds ${xs.map((x) => x.toFixed(2)).join(', ')}`);
  }
};

/** Both trees fold the same messages; the views must serialize to the same etcd entries. */
const check = async (other: string): Promise<void> => {
  const { viewEntries } = await import('../projections/layout.js');
  const msgs = messages();
  const a = [...viewEntries('p', foldAll(await load(other, 'fold'), msgs))];
  const b = [...viewEntries('p', foldAll(await load(here, args.fn), msgs))];
  const differing = a.filter(([k, v], i) => b[i]?.[0] !== k || b[i]?.[1] !== v);
  console.log(`${a.length} vs ${b.length} entries, ${differing.length} differ`);
  if (a.length !== b.length || differing.length > 0) process.exitCode = 1;
};

if (args.check !== undefined) await check(args.check);
else if (args.compare !== undefined) compare(args.compare);
else await runOne();
