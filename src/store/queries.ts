// The identity store's SQL and what its rows become. Times are written from the store's clock (so a
// test can move it), never from the server's now().
import { randomUUID } from 'node:crypto';
import type { Grant, Principal, PrincipalKind, TokenInfo } from '../auth/model.js';
import type { Sql } from './db.js';

type Time = Date | string | null;

const iso = (t: Time): string | null => (t === null ? null : new Date(t).toISOString());
const isoAt = (t: Date | string): string => new Date(t).toISOString();

type PrincipalRow = { id: string; name: string; kind: PrincipalKind; created_at: Date; disabled_at: Time; grants: Grant[] };
type TokenRow = { id: string; principal: string; name: string; created_at: Date; expires_at: Time; last_used_at: Time; revoked_at: Time };
/** A token with its principal (prefixed p_) and the hash verify compares: one indexed lookup. */
export type TokenWithOwner = Omit<TokenRow, 'principal'> & { secret_sha256: Uint8Array } & { [K in keyof PrincipalRow as `p_${K}`]: PrincipalRow[K] };

const grantsOf = (principal: string): string =>
  `COALESCE((SELECT json_agg(json_build_object('role', g.role, 'region', g.region) ORDER BY g.role, g.region) FROM grants g WHERE g.principal_id = ${principal}), '[]'::json)`;

const PRINCIPAL = `SELECT p.id, p.name, p.kind, p.created_at, p.disabled_at, ${grantsOf('p.id')} AS grants FROM principals p`;
const TOKEN_COLUMNS = 't.id, p.name AS principal, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at';

export const toPrincipal = (r: PrincipalRow): Principal => ({
  id: r.id, name: r.name, kind: r.kind, grants: r.grants.map((g) => ({ role: g.role, region: g.region ?? null })),
  createdAt: isoAt(r.created_at), disabledAt: iso(r.disabled_at),
});

export const toTokenInfo = (r: TokenRow): TokenInfo => ({
  id: r.id, principal: r.principal, name: r.name,
  createdAt: isoAt(r.created_at), expiresAt: iso(r.expires_at), lastUsedAt: iso(r.last_used_at), revokedAt: iso(r.revoked_at),
});

export const ownerOf = (r: TokenWithOwner): Principal =>
  toPrincipal({ id: r.p_id, name: r.p_name, kind: r.p_kind, created_at: r.p_created_at, disabled_at: r.p_disabled_at, grants: r.p_grants });
export const infoOf = (r: TokenWithOwner): TokenInfo => toTokenInfo({ ...r, principal: r.p_name });

export const principalNamed = async (sql: Sql, name: string): Promise<Principal | undefined> => {
  const row = (await sql.query<PrincipalRow>(`${PRINCIPAL} WHERE p.name = $1`, [name]))[0];
  return row === undefined ? undefined : toPrincipal(row);
};

export const allPrincipals = async (sql: Sql): Promise<Principal[]> =>
  (await sql.query<PrincipalRow>(`${PRINCIPAL} ORDER BY p.name`)).map(toPrincipal);

export const countPrincipals = async (sql: Sql): Promise<number> =>
  (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM principals'))[0]?.n ?? 0;

/** The new principal's id, or undefined when the name is taken. */
export const insertPrincipal = async (sql: Sql, p: { name: string; kind: PrincipalKind; grants: readonly Grant[] }, at: Date): Promise<string | undefined> => {
  const row = (await sql.query<{ id: string }>(
    'INSERT INTO principals (id, name, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id',
    [randomUUID(), p.name, p.kind, at],
  ))[0];
  if (row !== undefined) await insertGrants(sql, row.id, p.grants);
  return row?.id;
};

const insertGrants = async (sql: Sql, principalId: string, grants: readonly Grant[]): Promise<void> => {
  for (const g of grants) await sql.query('INSERT INTO grants (principal_id, role, region) VALUES ($1, $2, $3)', [principalId, g.role, g.region]);
};

/** Replaces a principal's grants; false when there is no such principal. */
export const replaceGrants = async (sql: Sql, name: string, grants: readonly Grant[]): Promise<boolean> => {
  const row = (await sql.query<{ id: string }>('SELECT id FROM principals WHERE name = $1 FOR UPDATE', [name]))[0];
  if (row === undefined) return false;
  await sql.query('DELETE FROM grants WHERE principal_id = $1', [row.id]);
  await insertGrants(sql, row.id, grants);
  return true;
};

/** Disables a principal (keeping the first time it was); false when there is none. */
export const markDisabled = async (sql: Sql, name: string, at: Date): Promise<boolean> =>
  (await sql.query('UPDATE principals SET disabled_at = COALESCE(disabled_at, $2) WHERE name = $1 RETURNING id', [name, at])).length > 0;

export type NewToken = {
  readonly id: string; readonly principalId: string; readonly name: string; readonly secretSha256: Uint8Array;
  readonly bcrypt: string | null; readonly createdAt: Date; readonly expiresAt: Date | null;
};

export const insertToken = async (sql: Sql, t: NewToken): Promise<void> => {
  await sql.query(
    'INSERT INTO tokens (id, principal_id, name, secret_sha256, bcrypt, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [t.id, t.principalId, t.name, t.secretSha256, t.bcrypt, t.createdAt, t.expiresAt],
  );
};

export const tokenWithOwner = async (sql: Sql, id: string): Promise<TokenWithOwner | undefined> =>
  (await sql.query<TokenWithOwner>(
    `SELECT t.id, t.name, t.secret_sha256, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
       p.id AS p_id, p.name AS p_name, p.kind AS p_kind, p.created_at AS p_created_at, p.disabled_at AS p_disabled_at, ${grantsOf('p.id')} AS p_grants
     FROM tokens t JOIN principals p ON p.id = t.principal_id WHERE t.id = $1`,
    [id],
  ))[0];

export const tokensOf = async (sql: Sql, principal: string | undefined): Promise<TokenInfo[]> =>
  (await sql.query<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t JOIN principals p ON p.id = t.principal_id
     ${principal === undefined ? '' : 'WHERE p.name = $1'} ORDER BY t.created_at, t.id`,
    principal === undefined ? [] : [principal],
  )).map(toTokenInfo);

/** Revokes a token, keeping the first revocation time; undefined when there is no such token. */
export const markRevoked = async (sql: Sql, id: string, at: Date): Promise<TokenInfo | undefined> => {
  const row = (await sql.query<TokenRow>(
    `WITH t AS (UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *)
     SELECT ${TOKEN_COLUMNS} FROM t JOIN principals p ON p.id = t.principal_id`,
    [id, at],
  ))[0];
  return row === undefined ? undefined : toTokenInfo(row);
};

/** Revokes a token only if nothing did before (a rotation racing another); false if something did. */
export const revokeIfLive = async (sql: Sql, id: string, at: Date): Promise<boolean> =>
  (await sql.query('UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, at])).length > 0;

/** Records a use unless one was recorded since `since` (another instance may have just done it). */
export const touch = async (sql: Sql, id: string, at: Date, since: Date): Promise<void> => {
  await sql.query('UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)', [id, at, since]);
};

type NatsRow = { id: string; bcrypt: string; principal: string; grants: Grant[] };

export const natsRows = async (sql: Sql, at: Date): Promise<NatsRow[]> =>
  sql.query<NatsRow>(
    `SELECT t.id, t.bcrypt, p.name AS principal, ${grantsOf('p.id')} AS grants
     FROM tokens t JOIN principals p ON p.id = t.principal_id
     WHERE t.bcrypt IS NOT NULL AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $1) AND p.disabled_at IS NULL
     ORDER BY t.id`,
    [at],
  );
