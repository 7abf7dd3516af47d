// database.url: DATABASE_URL is read when JZSE_DATABASE_URL is absent (what other tools set), and a
// wrong value is reported without showing it (it may hold a password).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '../../src/config/load.js';

const NO_FILE = join(tmpdir(), 'jzse-no-config-file.yaml');
const load = (env: Record<string, string>) => loadConfig({ ...env }, NO_FILE);
const url = (env: Record<string, string>): string | null => {
  const loaded = load(env);
  if (E.isLeft(loaded)) assert.fail(loaded.left.join('\n'));
  return loaded.right.config.database.url;
};

describe('database.url from the environment', () => {
  test('null by default: the embedded PGlite', () => {
    assert.equal(url({}), null);
  });

  test('DATABASE_URL when JZSE_DATABASE_URL is unset, JZSE_DATABASE_URL over it when both are', () => {
    assert.equal(url({ DATABASE_URL: 'postgres://a@db1:5432/x' }), 'postgres://a@db1:5432/x');
    assert.equal(url({ JZSE_DATABASE_URL: 'postgresql://b@db2/y' }), 'postgresql://b@db2/y');
    assert.equal(url({ DATABASE_URL: 'postgres://a@db1/x', JZSE_DATABASE_URL: 'postgres://b@db2/y' }), 'postgres://b@db2/y');
  });

  test('a wrong value names the variable, never the value', () => {
    const loaded = load({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    assert.ok(E.isLeft(loaded));
    // One line per member of the union (a URL, or null), as for every such key.
    assert.deepEqual(loaded.left, [
      'database.url = (not shown: it may hold a password) (from DATABASE_URL): expected URL (postgres or postgresql)',
      'database.url = (not shown: it may hold a password) (from DATABASE_URL): expected null',
    ]);
    assert.ok(!loaded.left.join('\n').includes('hunter2'));
  });
});
