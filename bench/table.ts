// The result rows and the one table the benchmark prints (also pasted into bench/README.md).
import { summarize, type Summary } from './stats.js';

export type Row = {
  readonly section: string;
  readonly name: string;
  readonly unit: string;
  readonly summary: Summary;
  /** What the figure is compared with, e.g. raw JetStream publish. */
  readonly ref?: { readonly name: string; readonly value: number };
  /** value / ref.value (for "lower is better" rows, the table says so in the target). */
  readonly ratio?: number;
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
};

export const row = (r: Omit<Row, 'summary'> & { runs: readonly number[] }): Row => {
  const { runs, ...rest } = r;
  return { ...rest, summary: summarize(runs) };
};

const fmtNumber = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  if (unit === 'ms' || unit === 's') return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (abs >= 1000) return `${(v / 1e3).toFixed(2)}k`;
  return abs >= 10 ? v.toFixed(0) : v.toFixed(2);
};

export const fmtRatio = (ratio: number): string =>
  !Number.isFinite(ratio) ? 'n/a' : ratio >= 2 ? `${ratio.toFixed(1)}×` : `${(ratio * 100).toFixed(0)} %`;

const cells = (r: Row): string[] => {
  const s = r.summary;
  const spread = s.runs.length > 1 ? `${fmtNumber(s.min, r.unit)}–${fmtNumber(s.max, r.unit)}` : s.runs.length === 1 ? '(1 run)' : '—';
  return [
    r.section,
    r.name,
    s.runs.length === 0 ? '—' : `${fmtNumber(s.median, r.unit)} ${r.unit}`,
    spread,
    String(s.runs.length),
    r.ref === undefined ? '' : `${r.ref.name}: ${fmtNumber(r.ref.value, r.unit)}`,
    r.ratio === undefined ? '' : fmtRatio(r.ratio),
    r.target === undefined ? '' : `${r.target} ${r.met === undefined ? '' : r.met ? '✔' : '✘'}`.trim(),
  ];
};

const HEAD = ['section', 'measure', 'median', 'spread (min–max)', 'runs', 'compared with', 'ratio', 'target'];

/** A Markdown table (readable as plain text too). */
export const renderTable = (rows: readonly Row[]): string => {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(HEAD), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
};

export const renderNotes = (rows: readonly Row[]): string =>
  rows
    .filter((r) => r.note !== undefined)
    .map((r) => `- ${r.section} / ${r.name}: ${r.note ?? ''}`)
    .join('\n');
