// An IdentityStore in memory, for the REST tests until the PostgreSQL/PGlite store lands: the same
// token form (jzse_<16 base32>_<43 base64url>), only a SHA-256 of the secret kept and compared in
// constant time, the same refusals as values. Replace with openIdentityStore({ url: null, dataDir }).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { PRINCIPAL_KINDS, PRINCIPAL_NAME, ROLES, parseToken, type Caller, type Grant, type Issued, type NatsUser, type Principal, type TokenInfo, type Unverified } from '../../src/auth/model.js';
import type { IdentityStore } from '../../src/store/identity.js';
import { rejection, type Rejection } from '../../projections/rejection.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const tokenId = (): string => [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

type StoredToken = { info: TokenInfo; hash: Buffer };

const checkGrants = (grants: readonly Grant[]): Rejection | undefined => {
  for (const [i, g] of grants.entries()) {
    if (!(ROLES as readonly string[]).includes(g.role)) return rejection('invalid', `grants.${i}.role`, `expected one of ${ROLES.join(', ')}, got ${JSON.stringify(g.role)}`);
    if ((g.role === 'region') !== (g.region !== null)) return rejection('invalid', `grants.${i}.region`, 'a region grant names its region; other grants name none');
  }
  return undefined;
};

export const memoryIdentityStore = (now: () => Date = () => new Date()): IdentityStore => {
  const principals = new Map<string, Principal>();
  const tokens = new Map<string, StoredToken>();
  const iso = () => now().toISOString();
  const issue = (principal: string, name: string, expiresAt: Date | null): Issued => {
    const id = tokenId();
    const secret = randomBytes(32).toString('base64url');
    const info: TokenInfo = { id, principal, name, createdAt: iso(), expiresAt: expiresAt?.toISOString() ?? null, lastUsedAt: null, revokedAt: null };
    tokens.set(id, { info, hash: sha256(secret) });
    return { token: `jzse_${id}_${secret}`, info };
  };
  const missing = (name: string) => rejection('not_found', 'name', `${name} is not a principal`);
  return {
    createPrincipal: ({ name, kind, grants }) => {
      if (!PRINCIPAL_NAME.test(name)) return Promise.resolve(E.left(rejection('invalid', 'name', 'expected 1-128 chars of A-Z a-z 0-9 . _ @ : -')));
      if (!(PRINCIPAL_KINDS as readonly string[]).includes(kind)) return Promise.resolve(E.left(rejection('invalid', 'kind', `expected one of ${PRINCIPAL_KINDS.join(', ')}`)));
      const bad = checkGrants(grants);
      if (bad !== undefined) return Promise.resolve(E.left(bad));
      if (principals.has(name)) return Promise.resolve(E.left(rejection('already_exists', 'name', `${name} already exists`)));
      const p: Principal = { id: tokenId(), name, kind: kind, grants: [...grants], createdAt: iso(), disabledAt: null };
      principals.set(name, p);
      return Promise.resolve(E.right(p));
    },
    getPrincipal: (name) => Promise.resolve(principals.get(name)),
    listPrincipals: () => Promise.resolve([...principals.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
    setGrants: (name, grants) => {
      const p = principals.get(name);
      if (p === undefined) return Promise.resolve(E.left(missing(name)));
      const bad = checkGrants(grants);
      if (bad !== undefined) return Promise.resolve(E.left(bad));
      const next = { ...p, grants: [...grants] };
      principals.set(name, next);
      return Promise.resolve(E.right(next));
    },
    disablePrincipal: (name) => {
      const p = principals.get(name);
      if (p === undefined) return Promise.resolve(E.left(missing(name)));
      const next = { ...p, disabledAt: p.disabledAt ?? iso() };
      principals.set(name, next);
      return Promise.resolve(E.right(next));
    },
    issueToken: (principal, o) => {
      if (!principals.has(principal)) return Promise.resolve(E.left(rejection('not_found', 'principal', `${principal} is not a principal`)));
      return Promise.resolve(E.right(issue(principal, o.name, o.expiresAt)));
    },
    listTokens: (principal) => Promise.resolve([...tokens.values()].map((t) => t.info).filter((t) => principal === undefined || t.principal === principal)),
    revokeToken: (id) => {
      const t = tokens.get(id);
      if (t === undefined) return Promise.resolve(E.left(rejection('not_found', 'id', `${id} is not a token`)));
      t.info = { ...t.info, revokedAt: t.info.revokedAt ?? iso() };
      return Promise.resolve(E.right(t.info));
    },
    rotateToken: (id, o) => {
      const t = tokens.get(id);
      if (t === undefined) return Promise.resolve(E.left(rejection('not_found', 'id', `${id} is not a token`)));
      if (t.info.revokedAt !== null) return Promise.resolve(E.left(rejection('failed_precondition', 'id', `${id} is revoked`)));
      t.info = { ...t.info, revokedAt: iso() };
      const expires = o.expiresAt === undefined ? (t.info.expiresAt === null ? null : new Date(t.info.expiresAt)) : o.expiresAt;
      return Promise.resolve(E.right(issue(t.info.principal, t.info.name, expires)));
    },
    verify: (token) => {
      const parsed = parseToken(token);
      if (parsed === undefined) return Promise.resolve(E.left<Unverified>('malformed'));
      const t = tokens.get(parsed.id);
      if (t === undefined || !timingSafeEqual(t.hash, sha256(parsed.secret))) return Promise.resolve(E.left<Unverified>('unknown'));
      if (t.info.revokedAt !== null) return Promise.resolve(E.left<Unverified>('revoked'));
      if (t.info.expiresAt !== null && Date.parse(t.info.expiresAt) <= now().getTime()) return Promise.resolve(E.left<Unverified>('expired'));
      const principal = principals.get(t.info.principal);
      if (principal === undefined || principal.disabledAt !== null) return Promise.resolve(E.left<Unverified>('disabled'));
      return Promise.resolve(E.right<Unverified, Caller>({ principal, token: t.info }));
    },
    natsUsers: () => Promise.resolve<NatsUser[]>([]),
    bootstrapAdmin: () => {
      if (principals.size > 0) return Promise.resolve(undefined);
      principals.set('admin', { id: tokenId(), name: 'admin', kind: 'person', grants: [{ role: 'admin', region: null }], createdAt: iso(), disabledAt: null });
      return Promise.resolve(issue('admin', 'bootstrap', null));
    },
    ping: () => Promise.resolve(true),
    close: () => Promise.resolve(),
  };
};
