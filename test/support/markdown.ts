// Reading the docs the way a reader does: sections under headings, and the tables in them. Used by
// the docsDrift.* tests, which hold the docs' tables to the code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export const readDoc = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

export type Table = {
  /** The heading the table sits under, e.g. `## Subjects`. */
  readonly heading: string;
  /** 1-based line of the header row. */
  readonly line: number;
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
};

const cellsOf = (line: string): string[] => {
  // Split on | outside backticks (a cell may show `a|b`).
  const cells: string[] = [];
  let cell = '';
  let code = false;
  for (const ch of line.trim().replace(/^\|/, '').replace(/\|$/, '')) {
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
};

/** Every pipe table in a markdown text, outside code blocks. */
export const tablesOf = (text: string): Table[] => {
  const lines = text.split('\n');
  const tables: Table[] = [];
  let heading = '';
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    if (/^#{1,6} /.test(line)) heading = line.trim();
    const next = lines[i + 1] ?? '';
    if (!line.trim().startsWith('|') || !/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(next)) continue;
    const header = cellsOf(line);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && (lines[j] ?? '').trim().startsWith('|'); j++) rows.push(cellsOf(lines[j] ?? ''));
    tables.push({ heading, line: i + 1, header, rows });
    i = j - 1;
  }
  return tables;
};

/** The one table under `heading` whose header is exactly `header`. */
export const tableUnder = (text: string, where: string, heading: string, header: readonly string[]): Table => {
  const found = tablesOf(text).filter((t) => t.heading === heading && t.header.join('|') === header.join('|'));
  assert.equal(found.length, 1, `${where}: expected one table | ${header.join(' | ')} | under "${heading}", found ${found.length}`);
  return found[0]!;
};

/** The text from `heading` to the next heading of the same or a higher level. */
export const sectionOf = (text: string, where: string, heading: string): string => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  assert.ok(start >= 0, `${where}: no heading "${heading}"`);
  const level = /^#+/.exec(heading)?.[0].length ?? 1;
  let end = start + 1;
  let fenced = false;
  for (; end < lines.length; end++) {
    const line = lines[end] ?? '';
    if (/^\s*```/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^(#+) /.exec(line);
    if (h && (h[1]?.length ?? 0) <= level) break;
  }
  return lines.slice(start + 1, end).join('\n');
};

/** The `code spans` in a piece of markdown, in order. */
export const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');

/** NATS subject matching: `*` is one token, `>` one or more at the end. Placeholders like `<region>` are a token. */
export const subjectMatches = (pattern: string, subject: string): boolean => {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
};
