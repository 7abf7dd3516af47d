// Run by bench/memory.ts in a fresh process (node --expose-gc): builds a view of `files` files
// registered by `regions` regions and prints, as one JSON line, how much resident memory and heap the
// view holds per file (each file also carries regions−1 pending entries, as in a deployment).
//
// Every record is the reducer's own output: each registration is folded by `step` into the view
// holding only the regions, and the records it produced (file + pending entries) are put into the
// big maps, transiently. The maps hold the same records a fold of all the events would, without the
// fold's garbage, which at a million files makes a sequential fold take minutes of GC (the fold's
// speed is measured by the replay rows; this row measures what the view holds).
import { stepStored as step } from '../test/support/events.js';
import { canonicalJson } from '../projections/layout.js';
import type { Map as IMap } from 'immutable';
import { emptyView, type Collection, type View } from '../projections/view.js';
import { changeGenerator, encodeEvent, regionIds, regionRegistration } from './workload.js';

const files = Number(process.argv[2] ?? '100000');
const regionCount = Number(process.argv[3] ?? '3');
const mode = process.argv[4] ?? 'records';
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const settle = (): NodeJS.MemoryUsage => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
};

const regions = regionIds(regionCount);
const storedAt = new Date(Date.UTC(2026, 10, 25)).toISOString();
const before = settle();
const started = performance.now();

let base: View = emptyView();
let seq = 0;
for (const r of regions) {
  const e = encodeEvent(regionRegistration(r, storedAt));
  base = step(base, { seq: ++seq, subject: e.subject, storedAt, data: e.data }).view;
}

const build = (): View => {
  const gen = changeGenerator({ regions, files, tag: 'mem', baseAtMs: Date.parse(storedAt) - files });
  if (mode === 'fold') {
    // The plain sequential fold (slow at large sizes; kept to check the records mode against it).
    let view = base;
    for (let i = 0; i < files; i++) {
      const e = encodeEvent(gen.next());
      view = step(view, { seq: ++seq, subject: e.subject, storedAt, data: e.data }).view;
    }
    return view;
  }
  // One transient (mutable) copy per collection the registrations touch; the regions stay as they are.
  const mutable = new Map<Collection, IMap<string, unknown>>();
  for (let i = 0; i < files; i++) {
    const e = encodeEvent(gen.next());
    const { view, touched } = step(base, { seq: ++seq, subject: e.subject, storedAt, data: e.data });
    for (const t of touched) {
      if (t.collection === 'regions') continue;
      let target = mutable.get(t.collection);
      if (target === undefined) {
        target = (base[t.collection] as IMap<string, unknown>).asMutable();
        mutable.set(t.collection, target);
      }
      const record: unknown = view[t.collection].get(t.key);
      if (record === undefined) target.delete(t.key);
      else target.set(t.key, record);
    }
  }
  const collections = Object.fromEntries([...mutable].map(([c, m]) => [c, m.asImmutable()])) as Partial<View>;
  return { ...base, ...collections, seq };
};

const view = build();
const buildSeconds = (performance.now() - started) / 1000;
const after = settle();
const sample = view.files.first();
const samplePending = view.pending.first();
process.stdout.write(
  `${JSON.stringify({
    files: view.files.size,
    pending: view.pending.size,
    rssPerFile: (after.rss - before.rss) / files,
    heapPerFile: (after.heapUsed - before.heapUsed) / files,
    rssMiB: after.rss / 2 ** 20,
    foldSeconds: buildSeconds,
    fileJsonBytes: sample === undefined ? 0 : canonicalJson(sample).length,
    pendingJsonBytes: samplePending === undefined ? 0 : canonicalJson(samplePending).length,
  })}\n`,
);
