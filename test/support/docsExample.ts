// The ```ts example of a docs/events.md section, written where its imports resolve (node_modules is
// not tracked) and imported: tests run the page's code, not a copy of it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const loadDocsExample = async <T>(heading: string): Promise<T> => {
  const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  assert.ok(section, `docs/events.md has the section "${heading}"`);
  const code = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(code, 'the section has a ```ts example');
  const dir = join(process.cwd(), 'node_modules', '.cache', 'jzse-docs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `example-${process.pid}-${Date.now()}.ts`);
  writeFileSync(file, code);
  try {
    return (await import(pathToFileURL(file).href)) as T;
  } finally {
    rmSync(file, { force: true });
  }
};
