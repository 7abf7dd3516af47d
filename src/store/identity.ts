// The identity store: principals, their grants and their API tokens, in PostgreSQL (`database.url`)
// or in embedded PGlite. What a caller got wrong is a Rejection (or an Unverified) value; a store
// that cannot be reached rejects the promise, so a door answers "unavailable", never "bad token".
// No token, secret or hash ever enters a log line or an error from here.
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import type { Caller, Grant, Issued, NatsUser, Principal, PrincipalKind, TokenInfo, Unverified } from '../auth/model.js';
import { parseToken } from '../auth/model.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import { withTimeout } from '../util/waitFor.js';
import { rejection, type Rejection } from '../../projections/rejection.js';
import { inTransaction, type Db, type Sql } from './db.js';
import { openDb } from './engine.js';
import { lockIdentity, migrate } from './migrate.js';
import * as q from './queries.js';
import { mintToken, natsHash, sameHash, secretHash } from './tokens.js';
import { checkExpiry, checkGrants, checkPrincipal, checkTokenId, checkTokenName, shown } from './validate.js';

export interface IdentityStore {
  readonly engine: 'postgresql' | 'pglite';
  /** The values are checked, not trusted (they may come straight from a request): a Rejection names the field. */
  createPrincipal(input: { name: string; kind: PrincipalKind; grants: readonly Grant[] }): Promise<E.Either<Rejection, Principal>>;
  getPrincipal(name: string): Promise<Principal | undefined>;
  listPrincipals(): Promise<Principal[]>;
  /** Replaces every grant of the principal. */
  setGrants(name: string, grants: readonly Grant[]): Promise<E.Either<Rejection, Principal>>;
  /** Its tokens are refused from then on (idempotent: the first time is kept). */
  disablePrincipal(name: string): Promise<E.Either<Rejection, Principal>>;
  issueToken(principal: string, o: { name: string; expiresAt: Date | null }): Promise<E.Either<Rejection, Issued>>;
  /** Every token, or one principal's (none for an unknown one), oldest first. */
  listTokens(principal?: string): Promise<TokenInfo[]>;
  /** Idempotent: revoking a revoked token returns it as it is. */
  revokeToken(id: string): Promise<E.Either<Rejection, TokenInfo>>;
  /**
   * A new token for the same principal and name, the old one revoked in the same transaction.
   * `expiresAt` left out: the old token's lifetime again, counted from now (none if it had none).
   */
  rotateToken(id: string, o?: { expiresAt?: Date | null }): Promise<E.Either<Rejection, Issued>>;
  verify(token: string): Promise<E.Either<Unverified, Caller>>;
  /**
   * Every live token (not revoked, not expired, its principal enabled), as the nats-server user it
   * logs in as, with its principal's grants.
   */
  natsUsers(): Promise<NatsUser[]>;
  /** On an empty store only: principal `admin` with an admin grant and a token `bootstrap`. */
  bootstrapAdmin(): Promise<Issued | undefined>;
  /** Whether the database answers within 2 s (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export type IdentityStoreOptions = { url: string | null; dataDir: string; now?: () => Date; log?: Logger };

/** The store's options from the configuration (`database.url`, `coordinator.data_dir`). */
export const identityStoreOptions = (config: Config): IdentityStoreOptions => ({ url: config.database.url, dataDir: config.coordinator.data_dir });

/** last_used_at is written at most once a minute per token: verify stays a read. */
const TOUCH_EVERY_MS = 60_000;
const PING_BOUND_MS = 2000;

const noPrincipal = (name: string, field = 'name'): Rejection => rejection('not_found', field, `no principal named ${shown(name)}`);
const noToken = (id: string): Rejection => rejection('not_found', 'id', `no token ${id}`);

export const openIdentityStore = async (o: IdentityStoreOptions): Promise<E.Either<string, IdentityStore>> => {
  const log = o.log ?? pino({ level: 'silent' });
  const opened = await openDb({ url: o.url, dataDir: o.dataDir, log });
  if (E.isLeft(opened)) return opened;
  const db = opened.right;
  const migrated = await migrate(db);
  if (E.isLeft(migrated)) {
    await db.close().catch(() => undefined);
    return migrated;
  }
  log.info({ engine: db.engine, schemaFrom: migrated.right.from, schemaTo: migrated.right.to }, 'identity store open');
  return E.right(identityStore(db, o.now ?? (() => new Date()), log));
};

const identityStore = (db: Db, now: () => Date, log: Logger): IdentityStore => {
  type Owner = Pick<Principal, 'id' | 'name' | 'grants'>;

  /** Mints and hashes outside any transaction (bcrypt takes tens of milliseconds). */
  // Every token may log in to nats-server (a region's to publish, the others' to read the stream).
  const prepare = async (_owner: Owner) => {
    const minted = mintToken();
    return { minted, bcrypt: await natsHash(minted.token) };
  };

  const write = async (sql: Sql, owner: Owner, prepared: Awaited<ReturnType<typeof prepare>>, name: string, expiresAt: Date | null): Promise<Issued> => {
    const createdAt = now();
    const { minted } = prepared;
    await q.insertToken(sql, { id: minted.id, principalId: owner.id, name, secretSha256: secretHash(minted.secret), bcrypt: prepared.bcrypt, createdAt, expiresAt });
    return {
      token: minted.token,
      info: { id: minted.id, principal: owner.name, name, createdAt: createdAt.toISOString(), expiresAt: expiresAt?.toISOString() ?? null, lastUsedAt: null, revokedAt: null },
    };
  };

  const reread = async (sql: Sql, name: string): Promise<E.Either<Rejection, Principal>> => {
    const p = await q.principalNamed(sql, name);
    return p === undefined ? E.left(noPrincipal(name)) : E.right(p);
  };

  /** The lifetime a rotation gives when none is asked: the old token's, from now. */
  const sameLifetime = (old: TokenInfo): Date | null =>
    old.expiresAt === null ? null : new Date(now().getTime() + Date.parse(old.expiresAt) - Date.parse(old.createdAt));

  let closing: Promise<void> | undefined;

  return {
    engine: db.engine,

    createPrincipal: async (input) => {
      const checked = checkPrincipal(input);
      if (E.isLeft(checked)) return checked;
      const p = checked.right;
      return inTransaction(db, async (tx) => {
        const id = await q.insertPrincipal(tx, p, now());
        return id === undefined ? E.left(rejection('already_exists', 'name', `a principal named ${shown(p.name)} exists`)) : reread(tx, p.name);
      });
    },

    getPrincipal: (name) => q.principalNamed(db, name),

    listPrincipals: () => q.allPrincipals(db),

    setGrants: async (name, grants) => {
      const checked = checkGrants(grants);
      if (E.isLeft(checked)) return checked;
      return inTransaction(db, async (tx) =>
        (await q.replaceGrants(tx, name, checked.right)) ? reread(tx, name) : E.left(noPrincipal(name)));
    },

    disablePrincipal: async (name) =>
      (await q.markDisabled(db, name, now())) ? reread(db, name) : E.left(noPrincipal(name)),

    issueToken: async (principal, { name, expiresAt }) => {
      const tokenName = checkTokenName(name);
      if (E.isLeft(tokenName)) return tokenName;
      const expiry = checkExpiry(expiresAt, now());
      if (E.isLeft(expiry)) return expiry;
      const owner = await q.principalNamed(db, principal);
      if (owner === undefined) return E.left(noPrincipal(principal, 'principal'));
      if (owner.disabledAt !== null) return E.left(rejection('failed_precondition', 'principal', `${shown(principal)} is disabled`));
      const prepared = await prepare(owner);
      return E.right(await write(db, owner, prepared, tokenName.right, expiry.right));
    },

    listTokens: (principal) => q.tokensOf(db, principal),

    revokeToken: async (id) => {
      const checked = checkTokenId(id);
      if (E.isLeft(checked)) return checked;
      const revoked = await q.markRevoked(db, checked.right, now());
      return revoked === undefined ? E.left(noToken(checked.right)) : E.right(revoked);
    },

    rotateToken: async (id, o = {}) => {
      const checked = checkTokenId(id);
      if (E.isLeft(checked)) return checked;
      const row = await q.tokenWithOwner(db, checked.right);
      if (row === undefined) return E.left(noToken(checked.right));
      const old = q.infoOf(row);
      const owner = q.ownerOf(row);
      if (old.revokedAt !== null) return E.left(rejection('failed_precondition', 'id', `token ${old.id} is revoked; issue a new one`));
      if (owner.disabledAt !== null) return E.left(rejection('failed_precondition', 'id', `token ${old.id} belongs to ${owner.name}, which is disabled`));
      const expiry = o.expiresAt === undefined ? E.right(sameLifetime(old)) : checkExpiry(o.expiresAt, now());
      if (E.isLeft(expiry)) return expiry;
      const prepared = await prepare(owner);
      return inTransaction(db, async (tx) =>
        (await q.revokeIfLive(tx, old.id, now()))
          ? E.right(await write(tx, owner, prepared, old.name, expiry.right))
          : E.left(rejection('failed_precondition', 'id', `token ${old.id} was revoked meanwhile; issue a new one`)));
    },

    verify: async (token) => {
      const parsed = parseToken(token);
      if (parsed === undefined) return E.left('malformed');
      const row = await q.tokenWithOwner(db, parsed.id);
      if (row === undefined || !sameHash(row.secret_sha256, secretHash(parsed.secret))) return E.left('unknown');
      const at = now();
      const info = q.infoOf(row);
      const principal = q.ownerOf(row);
      if (info.revokedAt !== null) return E.left('revoked');
      if (info.expiresAt !== null && Date.parse(info.expiresAt) <= at.getTime()) return E.left('expired');
      if (principal.disabledAt !== null) return E.left('disabled');
      if (info.lastUsedAt !== null && at.getTime() - Date.parse(info.lastUsedAt) < TOUCH_EVERY_MS) return E.right({ principal, token: info });
      await q.touch(db, info.id, at, new Date(at.getTime() - TOUCH_EVERY_MS));
      return E.right({ principal, token: { ...info, lastUsedAt: at.toISOString() } });
    },

    natsUsers: async () =>
      (await q.natsRows(db, now())).map((r) => ({ tokenId: r.id, bcrypt: r.bcrypt, principal: r.principal, grants: r.grants })),

    bootstrapAdmin: async () => {
      const grants = [{ role: 'admin', region: null }] as const;
      const prepared = await prepare({ id: '', name: 'admin', grants });
      const issued = await db.transaction(async (tx) => {
        await lockIdentity(tx);
        if ((await q.countPrincipals(tx)) > 0) return undefined;
        const id = await q.insertPrincipal(tx, { name: 'admin', kind: 'person', grants }, now());
        if (id === undefined) throw new Error('identity store: no principal counted, yet "admin" exists');
        return write(tx, { id, name: 'admin', grants }, prepared, 'bootstrap', null);
      });
      if (issued !== undefined) log.info({ principal: issued.info.principal, tokenId: issued.info.id }, 'identity store was empty: created the first admin');
      return issued;
    },

    ping: () => withTimeout(db.query('SELECT 1'), PING_BOUND_MS, 'the identity store to answer').then(() => true, () => false),

    close: () => (closing ??= db.close()),
  };
};
