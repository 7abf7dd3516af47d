// What changing principals and tokens means, for every door (gRPC IdentityService, REST): the store
// call, then this instance's cached verdicts about what changed dropped at once, then `changed`
// (e.g. regenerate the NATS users). Refusals stay values: the store's rejection, as an ApiError.
import * as E from 'fp-ts/lib/Either.js';
import type { Authenticator } from './authenticator.js';
import type { Grant, Issued, Principal, PrincipalKind, TokenInfo } from './model.js';
import type { IdentityStore } from '../store/identity.js';
import type { Rejection } from '../../projections/rejection.js';
import { fromRejection, type ApiError } from '../api/errors.js';

export type IdentityDeps = {
  readonly store: IdentityStore;
  readonly authenticator: Authenticator;
  /** Principals or tokens changed (e.g. regenerate the NATS users). */
  readonly changed: () => void;
};

type Done<A> = Promise<E.Either<ApiError, A>>;

export type IdentityActions = {
  readonly createPrincipal: (input: { name: string; kind: PrincipalKind; grants: readonly Grant[] }) => Done<Principal>;
  readonly listPrincipals: () => Done<Principal[]>;
  readonly getPrincipal: (name: string) => Promise<Principal | undefined>;
  readonly setGrants: (name: string, grants: readonly Grant[]) => Done<Principal>;
  readonly disablePrincipal: (name: string) => Done<Principal>;
  readonly issueToken: (principal: string, o: { name: string; expiresAt: Date | null }) => Done<Issued>;
  readonly listTokens: (principal?: string) => Done<TokenInfo[]>;
  readonly revokeToken: (id: string) => Done<TokenInfo>;
  readonly rotateToken: (id: string, o: { expiresAt?: Date | null }) => Done<Issued>;
};

export const identityActions = ({ store, authenticator, changed }: IdentityDeps): IdentityActions => {
  const after = async <A>(result: Promise<E.Either<Rejection, A>>, forget: (a: A) => void = () => undefined): Done<A> => {
    const r = await result;
    if (E.isLeft(r)) return E.left(fromRejection(r.left));
    forget(r.right);
    changed();
    return r;
  };
  return {
    createPrincipal: (input) => after(store.createPrincipal(input)),
    listPrincipals: async () => E.right(await store.listPrincipals()),
    getPrincipal: (name) => store.getPrincipal(name),
    setGrants: (name, grants) => after(store.setGrants(name, grants), (p) => authenticator.forget({ principal: p.name })),
    disablePrincipal: (name) => after(store.disablePrincipal(name), (p) => authenticator.forget({ principal: p.name })),
    issueToken: (principal, o) => after(store.issueToken(principal, o)),
    listTokens: async (principal) => E.right(await store.listTokens(principal)),
    revokeToken: (id) => after(store.revokeToken(id), (t) => authenticator.forget({ tokenId: t.id })),
    rotateToken: (id, o) => after(store.rotateToken(id, o), () => authenticator.forget({ tokenId: id })),
  };
};
