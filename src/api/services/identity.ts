// IdentityService: principals, grants and tokens in the identity store (admin only, except WhoAmI).
// A change takes effect on this instance at once (its cached verdicts are dropped) and on every
// other within the authenticator's TTL; NATS users follow through `changed`.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import type { Grant, Issued, Principal, TokenInfo } from '../../auth/model.js';
import { identityActions, type IdentityDeps } from '../../auth/actions.js';
import { decodeRequest, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { timestamp } from '../present.js';
import {
  CreatePrincipalRequest, IssueTokenRequest, ListTokensRequest, PrincipalNameRequest, RotateTokenRequest, SetGrantsRequest, TokenIdRequest,
} from '../requests.js';

export type { IdentityDeps } from '../../auth/actions.js';

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

export const identityService = (deps: ApiDeps, identity: IdentityDeps | undefined): grpc.UntypedServiceImplementation => {
  const act = identity === undefined ? undefined : identityActions(identity);
  const off = <A>(): Result<A> => Promise.resolve(E.left({ code: 'FAILED_PRECONDITION', message: 'authentication is off (auth.enabled: false): there is no identity store to manage' }));
  return {
    WhoAmI: unary(deps, 'IdentityService.WhoAmI', (_request: unknown, call: Call): Result<unknown> =>
      Promise.resolve(E.right(call.caller === undefined
        ? { principal: null, token: null, authentication_enabled: false }
        : { principal: principalMessage(call.caller.principal), token: tokenMessage(call.caller.token), authentication_enabled: true }))),

    CreatePrincipal: unary(deps, 'IdentityService.CreatePrincipal', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(CreatePrincipalRequest, request);
      if (E.isLeft(req)) return req;
      const created = await act.createPrincipal({ name: req.right.name, kind: req.right.kind as Principal['kind'], grants: grantsOf(req.right.grants) });
      return E.map((p: Principal) => ({ principal: principalMessage(p) }))(created);
    }),

    ListPrincipals: unary(deps, 'IdentityService.ListPrincipals', async (): Result<unknown> => {
      if (act === undefined) return off();
      return E.map((ps: Principal[]) => ({ principals: ps.map(principalMessage) }))(await act.listPrincipals());
    }),

    SetGrants: unary(deps, 'IdentityService.SetGrants', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(SetGrantsRequest, request);
      if (E.isLeft(req)) return req;
      return E.map((p: Principal) => ({ principal: principalMessage(p) }))(await act.setGrants(req.right.name, grantsOf(req.right.grants)));
    }),

    DisablePrincipal: unary(deps, 'IdentityService.DisablePrincipal', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(PrincipalNameRequest, request);
      if (E.isLeft(req)) return req;
      return E.map((p: Principal) => ({ principal: principalMessage(p) }))(await act.disablePrincipal(req.right.name));
    }),

    IssueToken: unary(deps, 'IdentityService.IssueToken', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(IssueTokenRequest, request);
      if (E.isLeft(req)) return req;
      const { principal, name, expires_at } = req.right;
      return E.map(issued)(await act.issueToken(principal, { name, expiresAt: expires_at ? new Date(expires_at) : null }));
    }),

    ListTokens: unary(deps, 'IdentityService.ListTokens', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(ListTokensRequest, request);
      if (E.isLeft(req)) return req;
      return E.map((ts: TokenInfo[]) => ({ tokens: ts.map(tokenMessage) }))(await act.listTokens(req.right.principal === '' ? undefined : req.right.principal));
    }),

    RevokeToken: unary(deps, 'IdentityService.RevokeToken', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(TokenIdRequest, request);
      if (E.isLeft(req)) return req;
      return E.map((t: TokenInfo) => ({ token: tokenMessage(t) }))(await act.revokeToken(req.right.id));
    }),

    RotateToken: unary(deps, 'IdentityService.RotateToken', async (request: unknown): Result<unknown> => {
      if (act === undefined) return off();
      const req = decodeRequest(RotateTokenRequest, request);
      if (E.isLeft(req)) return req;
      const { id, expires_at } = req.right;
      return E.map(issued)(await act.rotateToken(id, expires_at ? { expiresAt: new Date(expires_at) } : {}));
    }),
  };
};
