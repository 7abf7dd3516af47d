// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self and total time per function, so a
// bottleneck can be named in bench/README.md. Usage: node --import tsx bench/cpuprofile.ts FILE [TOP]
import { readFileSync } from 'node:fs';
import { ROOT } from './env.js';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] };

export type FunctionTime = { readonly name: string; readonly self: number; readonly total: number };

const label = (n: Node): string => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url;
  return `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
};

/** Self and inclusive share (0..1) of the samples per function, highest self first. */
export const summarizeProfile = (profile: Profile): FunctionTime[] => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  for (const s of profile.samples ?? []) hits.set(s, (hits.get(s) ?? 0) + 1);
  const total = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (node === undefined) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + count);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const l = label(n);
      if (!seen.has(l)) {
        seen.add(l);
        inclusive.set(l, (inclusive.get(l) ?? 0) + count);
      }
    }
  }
  return [...inclusive.keys()]
    .map((name) => ({ name, self: (self.get(name) ?? 0) / total, total: (inclusive.get(name) ?? 0) / total }))
    .sort((a, b) => b.self - a.self);
};

export const renderProfile = (rows: readonly FunctionTime[], top: number, by: 'self' | 'total' = 'self'): string =>
  [...rows]
    .sort((a, b) => b[by] - a[by])
    .slice(0, top)
    .map((r) => `${(r.self * 100).toFixed(1).padStart(5)} % self ${(r.total * 100).toFixed(1).padStart(5)} % total  ${r.name}`)
    .join('\n');

if (process.argv[1]?.endsWith('cpuprofile.ts')) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: bench/cpuprofile.ts FILE [TOP]');
  const rows = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const top = Number(process.argv[3] ?? '25');
  process.stdout.write(`by self time:\n${renderProfile(rows, top, 'self')}\n\nby total time:\n${renderProfile(rows, top, 'total')}\n`);
}
