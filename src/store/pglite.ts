// The identity store embedded: PGlite, PostgreSQL compiled to WASM, in this process, with its data
// in a folder. PGlite does not lock its folder, and two processes writing one corrupt it (a second
// `npm start` on the same data_dir opens the store before anything else would notice): a lock file
// holding the owner's pid keeps it to one opener; a crashed owner's lock is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { scrubbed, type Db, type Row, type Sql } from './db.js';

const over = (client: PGlite | Transaction): Sql => ({
  query: <T extends Row>(text: string, params: readonly unknown[] = []) => scrubbed(async () => (await client.query<T>(text, [...params])).rows),
  script: (text) => scrubbed(async () => void (await client.exec(text))),
});

/** Folders this process has open: the pid alone cannot tell a second opener here from the first. */
const openHere = new Set<string>();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const lock = (dir: string): (() => void) => {
  const file = join(dir, 'jzse.lock');
  if (openHere.has(dir)) throw new Error(`${dir} is already open in this process`);
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
      throw new Error(`${dir} is open in process ${owner} (PGlite allows one process; if no coordinator runs, remove ${file})`);
    }
    writeFileSync(file, `${process.pid}\n`);
  }
  openHere.add(dir);
  return () => {
    openHere.delete(dir);
    rmSync(file, { force: true });
  };
};

/** Where in the store's folder PostgreSQL's own files are (the lock file sits beside them). */
export const pgdataOf = (dir: string): string => join(dir, 'pgdata');

export const openPglite = async (dir: string): Promise<Db> => {
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir);
  try {
    const pglite = await scrubbed(() => PGlite.create(pgdataOf(dir)));
    return {
      engine: 'pglite',
      ...over(pglite),
      transaction: (fn) => scrubbed(() => pglite.transaction((tx) => fn(over(tx)))),
      close: async () => {
        try {
          await pglite.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
};
