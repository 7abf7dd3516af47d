// The identity store's one door to SQL, whichever engine is behind it: PostgreSQL through `pg`, or
// PGlite (PostgreSQL in WASM) embedded. Both drivers attach the query and its parameters to their
// errors, and a parameter may be a hash: what leaves here is a fresh error with the message and the
// SQLSTATE code only.
import * as E from 'fp-ts/lib/Either.js';

export type Row = Record<string, unknown>;

export interface Sql {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  script(text: string): Promise<void>;
}

export interface Db extends Sql {
  readonly engine: 'postgresql' | 'pglite';
  /** `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DbError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'DbError';
  }
}

export const dbError = (error: unknown): DbError => {
  if (error instanceof DbError) return error;
  const e = error as { message?: unknown; code?: unknown } | null | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return new DbError(message, typeof e?.code === 'string' ? e.code : undefined);
};

/** A transaction's function refused: roll back, and hand `left` to the caller as the outcome. */
class Rollback extends Error {
  constructor(readonly left: unknown) {
    super('rolled back: the transaction refused');
  }
}

/** `fn`'s outcome, with any failure but a Rollback turned into a DbError. */
export const scrubbed = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof Rollback ? error : dbError(error);
  }
};

/** `fn` in one transaction, committed only when it gives a Right. */
export const inTransaction = async <L, R>(db: Db, fn: (tx: Sql) => Promise<E.Either<L, R>>): Promise<E.Either<L, R>> => {
  try {
    return await db.transaction(async (tx) => {
      const result = await fn(tx);
      if (E.isLeft(result)) throw new Rollback(result.left);
      return result;
    });
  } catch (error) {
    if (error instanceof Rollback) return E.left(error.left as L);
    throw error;
  }
};

/** A PostgreSQL URL fit for a log line or an error: the password is never shown. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    u.search = '';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
};
