// What the identity store accepts, checked before anything is written: a typed rejection naming the
// input's own field (`name`, `grants.0.region`, `expires_at`) and why.
import * as A from 'fp-ts/lib/Array.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { PRINCIPAL_KINDS, PRINCIPAL_NAME, ROLES, type Grant, type PrincipalKind, type Role } from '../auth/model.js';
import { rejection, type Rejection } from '../../projections/rejection.js';
import { RegionId } from '../../streams/codecs.js';

/** Grants as callers send them: checked, not trusted (a role may be any string). */
export type GrantInput = { readonly role: string; readonly region?: string | null };
export type NewPrincipal = { readonly name: string; readonly kind: string; readonly grants: readonly GrantInput[] };

type Checked<T> = E.Either<Rejection, T>;

const invalid = (field: string, reason: string): Checked<never> => E.left(rejection('invalid', field, reason));

const isString = (u: unknown): u is string => typeof u === 'string';

/** A value as a reason may quote it: never a token pasted into the wrong field, never a page of text. */
export const shown = (u: unknown): string => {
  const text = JSON.stringify(u) ?? String(u);
  if (looksLikeToken(text)) return '(a token, not shown)';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

const looksLikeToken = (text: string): boolean => /jzse_[a-z2-7]{16}_/.test(text);

/** Names are shown in listings and logs: one holding a token (pasted into the wrong field) is refused. */
const notAToken = (field: string) => (name: string): Checked<string> =>
  looksLikeToken(name) ? invalid(field, 'looks like a token; a name is shown in listings and logs, so a token must not be one') : E.right(name);

export const checkName = (name: unknown, field = 'name'): Checked<string> =>
  isString(name) && PRINCIPAL_NAME.test(name)
    ? notAToken(field)(name)
    : invalid(field, `expected 1-128 chars of A-Z a-z 0-9 . _ @ : -, got ${shown(name)}`);

export const checkKind = (kind: unknown): Checked<PrincipalKind> =>
  (PRINCIPAL_KINDS as readonly unknown[]).includes(kind) ? E.right(kind as PrincipalKind) : invalid('kind', `expected one of ${PRINCIPAL_KINDS.join(', ')}, got ${shown(kind)}`);

const checkGrant = (field: string) => (g: GrantInput): Checked<Grant> => {
  if (typeof g !== 'object' || g === null) return invalid(field, `expected a grant { role, region }, got ${shown(g)}`);
  if (!(ROLES as readonly unknown[]).includes(g.role)) return invalid(`${field}.role`, `expected one of ${ROLES.join(', ')}, got ${shown(g.role)}`);
  const role = g.role as Role;
  const region = g.region ?? null;
  if (role !== 'region') return region === null ? E.right({ role, region }) : invalid(`${field}.region`, `only a region grant names a region, not ${role}`);
  if (region === null) return invalid(`${field}.region`, 'a region grant must name its region');
  return RegionId.is(region) ? E.right({ role, region }) : invalid(`${field}.region`, `expected a region id (1-64 chars of a-z 0-9 _ -), got ${shown(region)}`);
};

const sameGrant = (a: Grant, b: Grant): boolean => a.role === b.role && a.region === b.region;

export const checkGrants = (grants: readonly GrantInput[]): Checked<Grant[]> =>
  pipe(
    [...grants],
    A.traverseWithIndex(E.Applicative)((i, g) => checkGrant(`grants.${i}`)(g)),
    E.chain((checked) => {
      const twice = checked.findIndex((g, i) => checked.findIndex((h) => sameGrant(g, h)) < i);
      return twice < 0 ? E.right(checked) : invalid(`grants.${twice}`, `the same grant as grants.${checked.findIndex((h) => sameGrant(h, checked[twice] as Grant))}`);
    }),
  );

export const checkPrincipal = (p: NewPrincipal): Checked<{ name: string; kind: PrincipalKind; grants: Grant[] }> =>
  pipe(
    E.Do,
    E.apS('name', checkName(p.name)),
    E.apS('kind', checkKind(p.kind)),
    E.apS('grants', Array.isArray(p.grants) ? checkGrants(p.grants) : invalid('grants', 'expected a list of grants')),
  );

// A token's name is a label for people ("ci deploy"), so any printable text; control characters would
// let it forge lines in a listing.
const CONTROL = /\p{Cc}/u;
export const checkTokenName = (name: unknown): Checked<string> =>
  isString(name) && [...name].length >= 1 && [...name].length <= 128 && !CONTROL.test(name)
    ? notAToken('name')(name)
    : invalid('name', `expected 1-128 characters, no control characters, got ${shown(name)}`);

/** An expiry must lie in the future: a token born expired is a mistake. */
export const checkExpiry = (at: Date | null, now: Date): Checked<Date | null> => {
  if (at === null) return E.right(null);
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) return invalid('expires_at', 'expected a time');
  return at.getTime() > now.getTime() ? E.right(at) : invalid('expires_at', `${at.toISOString()} is not in the future (now ${now.toISOString()})`);
};

/** A token's public id: what revoke and rotate take (never the whole token, which is a secret). */
export const checkTokenId = (id: unknown): Checked<string> =>
  isString(id) && /^[a-z2-7]{16}$/.test(id) ? E.right(id) : invalid('id', 'expected a token id: the 16 characters after jzse_ (a-z 2-7)');
