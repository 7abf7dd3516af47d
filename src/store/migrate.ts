// The identity store's schema, brought to the version this code knows with postgrator (its queries
// run through our own connection, so PGlite and PostgreSQL alike). All of it happens in one
// transaction under an advisory lock: two instances starting on one empty database take turns, and a
// failed migration leaves nothing half-done. A schema newer than the code is refused, never touched.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import Postgrator from 'postgrator';
import { dbError, type Db, type Sql } from './db.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
export const SCHEMA_TABLE = 'identity_schema_version';

/** Held for a transaction by whatever must not run twice at once: migrating, the first admin. */
export const lockIdentity = async (tx: Sql): Promise<void> => {
  // 0x4a7a5345 is "JzSE"; 1 the identity store.
  await tx.query('SELECT pg_advisory_xact_lock(1249530693, 1)');
};

export type Migrated = { readonly from: number; readonly to: number };

export const migrate = async (db: Db): Promise<E.Either<string, Migrated>> => {
  try {
    return await db.transaction(async (tx) => {
      await lockIdentity(tx);
      const postgrator = new Postgrator({
        driver: 'pg',
        migrationPattern: join(MIGRATIONS_DIR, '*.sql'),
        schemaTable: SCHEMA_TABLE,
        execQuery: async (text) => ({ rows: await tx.query(text) }),
        execSqlScript: (text) => tx.script(text),
      });
      const known = await postgrator.getMaxVersion();
      const at = await postgrator.getDatabaseVersion();
      if (at > known) return E.left(`the identity store's schema is at version ${at}, this coordinator knows up to ${known}: upgrade the coordinator`);
      await postgrator.migrate();
      return E.right({ from: at, to: known });
    });
  } catch (error) {
    return E.left(`the identity store's migrations failed: ${dbError(error).message}`);
  }
};
