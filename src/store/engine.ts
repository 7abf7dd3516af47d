// Which engine holds the identity store: the PostgreSQL server `url` names, or PGlite under
// <dataDir>/identity when there is none.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from '../observability/log.js';
import { dbError, redactUrl, type Db } from './db.js';
import { openPostgres } from './pg.js';
import { openPglite } from './pglite.js';

export const pgliteDir = (dataDir: string): string => join(dataDir, 'identity');

export const openDb = async (o: { url: string | null; dataDir: string; log: Logger }): Promise<E.Either<string, Db>> => {
  const [open, where] = o.url === null
    ? [() => openPglite(pgliteDir(o.dataDir)), `PGlite in ${pgliteDir(o.dataDir)}`]
    : [() => openPostgres(o.url ?? '', o.log), `PostgreSQL at ${redactUrl(o.url)}`];
  try {
    return E.right(await open());
  } catch (error) {
    return E.left(`cannot open ${where}: ${dbError(error).message}`);
  }
};
