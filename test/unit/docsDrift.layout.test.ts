// README.md's layout table against the tree: every folder it lists exists, and every top-level
// folder of the repository and every folder directly under src/ is listed. Folders .gitignore names
// (node_modules/, .jzse/, ...) are not the repository's.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { ROOT } from '../support/tsUsage.js';

const DOC = 'README.md';

const ignored = new Set(['.git', ...readDoc('.gitignore').split('\n').map((l) => l.trim()).filter((l) => /^[^#*!/][^*]*\/$/.test(l)).map((l) => l.slice(0, -1))]);
const foldersIn = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !(dir === '' && ignored.has(e.name)))
    .map((e) => (dir === '' ? e.name : `${dir}/${e.name}`))
    .sort();

describe(`${DOC}: the layout table`, () => {
  const table = tableUnder(readDoc(DOC), DOC, '## Layout', ['folder', 'what']);
  const listed = table.rows.map((r) => (codeSpans(r[0] ?? '')[0] ?? '').replace(/\/$/, ''));

  test('every listed folder exists', () => {
    assert.ok(listed.length > 0);
    for (const folder of listed) {
      const path = join(ROOT, folder);
      assert.ok(folder !== '' && existsSync(path) && statSync(path).isDirectory(), `${DOC} line ${table.line}: \`${folder}/\` is not a folder of the repository`);
    }
    assert.equal(new Set(listed).size, listed.length, `${DOC}: a folder is listed twice`);
  });

  test('every top-level folder and every folder directly under src/ is listed', () => {
    const missing = [...foldersIn(''), ...foldersIn('src')].filter((f) => !listed.includes(f));
    assert.deepEqual(missing, [], `${DOC}: folders missing from the layout table`);
  });
});
