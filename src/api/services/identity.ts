// IdentityService: principals, grants and tokens in the identity store (admin only, except WhoAmI).
// A change takes effect on this instance at once (its cached verdicts are dropped) and on every
// other within the authenticator's TTL; NATS users follow through `changed`.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import type { Authenticator } from '../../auth/authenticator.js';
import type { Grant, Issued, Principal, TokenInfo } from '../../auth/model.js';
import type { IdentityStore } from '../../store/identity.js';
import type { Rejection } from '../../../projections/rejection.js';
import { decodeRequest, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { fromRejection } from '../errors.js';
import { timestamp } from '../present.js';
import {
  CreatePrincipalRequest, IssueTokenRequest, ListTokensRequest, PrincipalNameRequest, RotateTokenRequest, SetGrantsRequest, TokenIdRequest,
} from '../requests.js';

export type IdentityDeps = {
  readonly store: IdentityStore;
  readonly authenticator: Authenticator;
  /** Principals or tokens changed (e.g. regenerate the NATS users). */
  readonly changed: () => void;
};

const grantsOf = (grants: ReadonlyArray<{ role: string; region: string }>): Grant[] =>
  grants.map((g) => ({ role: g.role as Grant['role'], region: g.region === '' ? null : g.region }));

export const principalMessage = (p: Principal) => ({
  name: p.name, kind: p.kind, grants: p.grants.map((g) => ({ role: g.role, region: g.region ?? '' })),
  created_at: timestamp(p.createdAt), disabled_at: timestamp(p.disabledAt),
});

export const tokenMessage = (t: TokenInfo) => ({
  id: t.id, principal: t.principal, name: t.name, created_at: timestamp(t.createdAt), expires_at: timestamp(t.expiresAt),
  last_used_at: timestamp(t.lastUsedAt), revoked_at: timestamp(t.revokedAt),
});

const issued = (i: Issued) => ({ token: i.token, info: tokenMessage(i.info) });

const answer = <A, B>(result: E.Either<Rejection, A>, present: (a: A) => B) =>
  E.bimap((r: Rejection) => fromRejection(r), present)(result);

export const identityService = (deps: ApiDeps, identity: IdentityDeps | undefined): grpc.UntypedServiceImplementation => {
  const { store, authenticator, changed } = identity ?? {};
  const off = <A>(): Result<A> => Promise.resolve(E.left({ code: 'FAILED_PRECONDITION', message: 'authentication is off (auth.enabled: false): there is no identity store to manage' }));
  const after = <A>(result: E.Either<Rejection, A>, forget: (a: A) => void): E.Either<Rejection, A> => {
    if (E.isRight(result)) {
      forget(result.right);
      changed?.();
    }
    return result;
  };
  return {
    WhoAmI: unary(deps, 'IdentityService.WhoAmI', (_request: unknown, call: Call): Result<unknown> =>
      Promise.resolve(E.right(call.caller === undefined
        ? { principal: null, token: null, authentication_enabled: false }
        : { principal: principalMessage(call.caller.principal), token: tokenMessage(call.caller.token), authentication_enabled: true }))),

    CreatePrincipal: unary(deps, 'IdentityService.CreatePrincipal', async (request: unknown): Result<unknown> => {
      if (store === undefined) return off();
      const req = decodeRequest(CreatePrincipalRequest, request);
      if (E.isLeft(req)) return req;
      const created = await store.createPrincipal({ name: req.right.name, kind: req.right.kind as Principal['kind'], grants: grantsOf(req.right.grants) });
      return answer(after(created, () => undefined), (p) => ({ principal: principalMessage(p) }));
    }),

    ListPrincipals: unary(deps, 'IdentityService.ListPrincipals', async (): Result<unknown> => {
      if (store === undefined) return off();
      return E.right({ principals: (await store.listPrincipals()).map(principalMessage) });
    }),

    SetGrants: unary(deps, 'IdentityService.SetGrants', async (request: unknown): Result<unknown> => {
      if (store === undefined || authenticator === undefined) return off();
      const req = decodeRequest(SetGrantsRequest, request);
      if (E.isLeft(req)) return req;
      const set = await store.setGrants(req.right.name, grantsOf(req.right.grants));
      return answer(after(set, (p) => authenticator.forget({ principal: p.name })), (p) => ({ principal: principalMessage(p) }));
    }),

    DisablePrincipal: unary(deps, 'IdentityService.DisablePrincipal', async (request: unknown): Result<unknown> => {
      if (store === undefined || authenticator === undefined) return off();
      const req = decodeRequest(PrincipalNameRequest, request);
      if (E.isLeft(req)) return req;
      const disabled = await store.disablePrincipal(req.right.name);
      return answer(after(disabled, (p) => authenticator.forget({ principal: p.name })), (p) => ({ principal: principalMessage(p) }));
    }),

    IssueToken: unary(deps, 'IdentityService.IssueToken', async (request: unknown): Result<unknown> => {
      if (store === undefined) return off();
      const req = decodeRequest(IssueTokenRequest, request);
      if (E.isLeft(req)) return req;
      const { principal, name, expires_at } = req.right;
      const made = await store.issueToken(principal, { name, expiresAt: expires_at ? new Date(expires_at) : null });
      return answer(after(made, () => undefined), issued);
    }),

    ListTokens: unary(deps, 'IdentityService.ListTokens', async (request: unknown): Result<unknown> => {
      if (store === undefined) return off();
      const req = decodeRequest(ListTokensRequest, request);
      if (E.isLeft(req)) return req;
      return E.right({ tokens: (await store.listTokens(req.right.principal === '' ? undefined : req.right.principal)).map(tokenMessage) });
    }),

    RevokeToken: unary(deps, 'IdentityService.RevokeToken', async (request: unknown): Result<unknown> => {
      if (store === undefined || authenticator === undefined) return off();
      const req = decodeRequest(TokenIdRequest, request);
      if (E.isLeft(req)) return req;
      const revoked = await store.revokeToken(req.right.id);
      return answer(after(revoked, (t) => authenticator.forget({ tokenId: t.id })), (t) => ({ token: tokenMessage(t) }));
    }),

    RotateToken: unary(deps, 'IdentityService.RotateToken', async (request: unknown): Result<unknown> => {
      if (store === undefined || authenticator === undefined) return off();
      const req = decodeRequest(RotateTokenRequest, request);
      if (E.isLeft(req)) return req;
      const { id, expires_at } = req.right;
      const rotated = await store.rotateToken(id, expires_at ? { expiresAt: new Date(expires_at) } : {});
      return answer(after(rotated, () => authenticator.forget({ tokenId: id })), issued);
    }),
  };
};
