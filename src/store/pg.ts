// The identity store on a PostgreSQL server, through a `pg` pool. Every wait is bounded: connecting
// (5 s), a statement on the server (15 s), a reply at all (20 s). A server that restarts costs the
// connections it held; the pool opens new ones on the next query.
import pg from 'pg';
import type { Logger } from '../observability/log.js';
import { dbError, scrubbed, type Db, type Row, type Sql } from './db.js';

const over = (client: pg.Pool | pg.PoolClient): Sql => ({
  query: <T extends Row>(text: string, params: readonly unknown[] = []) => scrubbed(async () => (await client.query<T>(text, [...params])).rows),
  // Without parameters `pg` uses the simple protocol, which takes several statements at once.
  script: (text) => scrubbed(async () => void (await client.query(text))),
});

export const openPostgres = async (url: string, log: Logger): Promise<Db> => {
  const pool = new pg.Pool({
    connectionString: url, max: 10, connectionTimeoutMillis: 5000, statement_timeout: 15_000, query_timeout: 20_000,
    keepAlive: true, application_name: 'jzse-coordinator',
  });
  // An idle connection the server dropped (a restart): without a listener it would crash the process.
  pool.on('error', (error) => log.warn({ err: dbError(error) }, 'identity store: a PostgreSQL connection failed; the next query opens a new one'));
  const db: Db = {
    engine: 'postgresql',
    ...over(pool),
    transaction: async (fn) => {
      const client = await scrubbed(() => pool.connect());
      let broken: Error | undefined;
      const sql = over(client);
      try {
        await sql.query('BEGIN');
        const result = await fn(sql);
        await sql.query('COMMIT');
        return result;
      } catch (error) {
        await sql.query('ROLLBACK').catch((e: unknown) => (broken = dbError(e)));
        throw error;
      } finally {
        // A connection that could not roll back is not given to the next caller.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
  await db.query('SELECT 1');
  return db;
};
