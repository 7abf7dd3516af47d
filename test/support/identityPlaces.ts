// Where an identity store can live in a test, each giving a fresh, empty place per test: PGlite in a
// temp folder, a PostgreSQL server of our own, the machine's PostgreSQL. The same tests run on all.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgliteDir } from '../../src/store/engine.js';
import { pgdataOf } from '../../src/store/pglite.js';
import { freshDatabase, MACHINE_POSTGRES, startPostgres, unreachable, type Postgres } from './postgres.js';

/** What openIdentityStore is given: a PostgreSQL URL, or none (PGlite under dataDir). */
export type Place = { readonly url: string | null; readonly dataDir: string; readonly drop: () => Promise<void> };

export type Backend = {
  readonly name: string;
  /** Why it cannot run here (the tests are reported as skipped with it), or undefined. */
  readonly skip: string | undefined;
  /** A server several stores (processes) may open at once; PGlite's folder is one process's. */
  readonly shared: boolean;
  readonly setup: () => Promise<void>;
  readonly teardown: () => Promise<void>;
  readonly fresh: () => Promise<Place>;
  /** Our own server, for tests that kill it. */
  readonly server?: () => Postgres;
};

const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `jzse-${name}-`));

/** PGlite's initdb takes seconds: done once into a template folder, copied for each test. */
export const pgliteBackend = (): Backend => {
  let template: string | undefined;
  return {
    name: 'PGlite', skip: undefined, shared: false,
    setup: async () => {
      template = tempDir('pglite-template');
      await (await PGlite.create(template)).close();
    },
    teardown: () => Promise.resolve(template === undefined ? undefined : rmSync(template, { recursive: true, force: true })),
    fresh: () => {
      if (template === undefined) throw new Error('pgliteBackend: setup() first');
      const dataDir = tempDir('pglite');
      cpSync(template, pgdataOf(pgliteDir(dataDir)), { recursive: true });
      return Promise.resolve({ url: null, dataDir, drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })) });
    },
  };
};

const onServer = async (serverUrl: string): Promise<Place> => {
  const db = await freshDatabase(serverUrl);
  const dataDir = tempDir('pg-store');
  return { url: db.url, dataDir, drop: async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  } };
};

export const ownPostgresBackend = (): Backend => {
  let dir: string | undefined;
  let server: Postgres | undefined;
  const running = (): Postgres => {
    if (server === undefined) throw new Error('ownPostgresBackend: setup() first');
    return server;
  };
  return {
    name: 'PostgreSQL started by the test', skip: undefined, shared: true,
    setup: async () => {
      dir = tempDir('postgres');
      server = await startPostgres(join(dir, 'server'));
    },
    teardown: async () => {
      await server?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
    fresh: () => onServer(running().url),
    server: running,
  };
};

/** The machine's PostgreSQL: asked once whether it answers. */
export const machinePostgresBackend = async (): Promise<Backend> => ({
  name: `the machine's PostgreSQL (${MACHINE_POSTGRES})`, skip: await unreachable(MACHINE_POSTGRES), shared: true,
  setup: () => Promise.resolve(),
  teardown: () => Promise.resolve(),
  fresh: () => onServer(MACHINE_POSTGRES),
});
