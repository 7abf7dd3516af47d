// PostgreSQL for tests: a throwaway server of our own (src/stack/postgres.ts) in a temp folder, the
// machine's own server when it answers, and a fresh database on either per test.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import pg from 'pg';
import { startPostgres as startServer, type Postgres } from '../../src/stack/postgres.js';
import { withTimeout } from '../../src/util/waitFor.js';

export type { Postgres };

/** The machine's PostgreSQL, which CI and this machine run (user postgres, database test). */
export const MACHINE_POSTGRES = process.env['JZSE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Our own server in `dir`. The server runs as the `postgres` user when we are root, so the temp
 * folders above `dir` (mkdtemp makes them 0700) are opened to it for passing through (o+x), no more.
 */
export const startPostgres = (dir: string): Promise<Postgres> => {
  mkdirSync(dir, { recursive: true });
  const tmp = resolve(tmpdir());
  for (let d = dirname(resolve(dir)); relative(tmp, d) !== '' && !relative(tmp, d).startsWith('..'); d = dirname(d)) {
    chmodSync(d, statSync(d).mode | 0o001);
  }
  // Throwaway data: no fsync (only a machine crash loses data then; a SIGKILL of the server loses
  // nothing committed, which the tests that kill it rely on, so synchronous_commit stays on).
  return startServer(dir, { settings: { fsync: 'off', full_page_writes: 'off', shared_buffers: '32MB' } });
};

const withDatabase = (url: string, name: string): string => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

const admin = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 30_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
};

export type FreshDatabase = { readonly url: string; readonly drop: () => Promise<void> };

/** A new, empty database `jzse_<random>` on the server of `url`; drop() removes it (and its connections). */
export const freshDatabase = async (url: string): Promise<FreshDatabase> => {
  const name = `jzse_${randomBytes(6).toString('hex')}`;
  await admin(url, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(url, name),
    drop: () => admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
};

/** undefined when the server of `url` answers, or why it does not (for a test reported as not run). */
export const unreachable = async (url: string): Promise<string | undefined> => {
  try {
    await withTimeout(admin(url, (c) => c.query('SELECT 1')), 5000, `PostgreSQL at ${url}`);
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${url} is not reachable: ${error instanceof Error ? error.message : String(error)}`;
  }
};
