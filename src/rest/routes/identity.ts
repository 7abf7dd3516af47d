// Principals, roles and tokens (admin only; whoami for any caller): the same actions as gRPC's
// IdentityService (src/auth/actions.ts), so a change drops this instance's cached verdicts at once.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import { identityActions, type IdentityDeps } from '../../auth/actions.js';
import { ROLE_PERMISSIONS, REGION_SCOPED, type Permission } from '../../auth/permissions.js';
import { PRINCIPAL_KINDS, type Grant, type Principal, type TokenInfo } from '../../auth/model.js';
import { apiError, type ApiError } from '../../api/errors.js';
import * as present from '../present.js';
import { defineRoute } from '../route.js';
import { GrantSchema, Instant, IssuedToken, PrincipalName, TokenId, TokenName, closed } from '../schemas.js';

const NameParams = Type.Object({ name: PrincipalName }, closed);
const TokenParams = Type.Object({ id: TokenId }, closed);
const Grants = Type.Array(GrantSchema, { maxItems: 64 });
const PrincipalOut = Type.Object({ principal: Type.Ref('Principal') });

type GrantIn = { role: Grant['role']; region?: string | null };
const grantsOf = (gs: readonly GrantIn[]): Grant[] => gs.map((g) => ({ role: g.role, region: g.region ?? null }));

const off = (): E.Either<ApiError, never> => E.left(apiError('FAILED_PRECONDITION', 'authentication is off (auth.enabled: false): there is no identity store to manage'));

const expiry = (at: string | undefined): Date | null => (at === undefined ? null : new Date(at));

export const identityRoutes = (identity: IdentityDeps | undefined) => {
  const act = identity === undefined ? undefined : identityActions(identity);
  const principalOf = E.map((p: Principal) => ({ principal: present.principal(p) }));
  const tokenOf = E.map((t: TokenInfo) => ({ token: present.token(t) }));
  const issuedOf = E.map((i: { token: string; info: TokenInfo }) => ({ token: i.token, info: present.token(i.info) }));
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/whoami', access: 'authenticated', tags: ['identity'],
      summary: 'Who the coordinator takes the caller for',
      request: {},
      response: { 200: Type.Object({ principal: Type.Union([Type.Ref('Principal'), Type.Null()]), token: Type.Union([Type.Ref('TokenInfo'), Type.Null()]), authentication_enabled: Type.Boolean() }) },
      handler: (_input, call) => Promise.resolve(E.right(call.caller === undefined
        ? { principal: null, token: null, authentication_enabled: false }
        : { principal: present.principal(call.caller.principal), token: present.token(call.caller.token), authentication_enabled: true })),
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/roles', access: 'identity.manage', tags: ['identity'],
      summary: 'The roles and what each may do (region-scoped permissions act for the grant’s region only)',
      request: {},
      response: { 200: Type.Object({ roles: Type.Array(Type.Object({ role: Type.String(), permissions: Type.Array(Type.String()), region_scoped: Type.Array(Type.String()) })) }) },
      handler: () => Promise.resolve(E.right({
        roles: Object.entries(ROLE_PERMISSIONS).map(([role, ps]) => ({ role, permissions: [...ps], region_scoped: ps.filter((p: Permission) => REGION_SCOPED.has(p)) })),
      })),
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/principals', access: 'identity.manage', tags: ['identity'],
      summary: 'Every principal with its grants',
      request: {},
      response: { 200: Type.Object({ items: Type.Array(Type.Ref('Principal')) }) },
      handler: async () => (act === undefined ? off() : E.map((ps: Principal[]) => ({ items: ps.map(present.principal) }))(await act.listPrincipals())),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/principals', access: 'identity.manage', tags: ['identity'],
      summary: 'Create a principal (a person, a region or a service) with its grants',
      request: { body: Type.Object({ name: PrincipalName, kind: Type.Union(PRINCIPAL_KINDS.map((k) => Type.Literal(k))), grants: Grants }, closed) },
      response: { 201: PrincipalOut },
      handler: async ({ body }) => (act === undefined ? off() : principalOf(await act.createPrincipal({ name: body.name, kind: body.kind, grants: grantsOf(body.grants) }))),
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/principals/:name', access: 'identity.manage', tags: ['identity'],
      summary: 'One principal',
      request: { params: NameParams },
      response: { 200: PrincipalOut },
      handler: async ({ params }) => {
        if (act === undefined) return off();
        const p = await act.getPrincipal(params.name);
        return p === undefined ? E.left(apiError('NOT_FOUND', `name: ${params.name} is not a principal`)) : E.right({ principal: present.principal(p) });
      },
    }),

    defineRoute({
      method: 'PUT', url: '/api/v1/principals/:name/grants', access: 'identity.manage', tags: ['identity'],
      summary: "Replace all of a principal's grants",
      request: { params: NameParams, body: Type.Object({ grants: Grants }, closed) },
      response: { 200: PrincipalOut },
      handler: async ({ params, body }) => (act === undefined ? off() : principalOf(await act.setGrants(params.name, grantsOf(body.grants)))),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/principals/:name/disable', access: 'identity.manage', tags: ['identity'],
      summary: 'Disable a principal: every one of its tokens is refused',
      request: { params: NameParams },
      response: { 200: PrincipalOut },
      handler: async ({ params }) => (act === undefined ? off() : principalOf(await act.disablePrincipal(params.name))),
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/tokens', access: 'identity.manage', tags: ['identity'],
      summary: 'Tokens (never their secrets), of one principal or of everyone',
      request: { querystring: Type.Object({ principal: Type.Optional(PrincipalName) }, closed) },
      response: { 200: Type.Object({ items: Type.Array(Type.Ref('TokenInfo')) }) },
      handler: async ({ query }) => (act === undefined ? off() : E.map((ts: TokenInfo[]) => ({ items: ts.map(present.token) }))(await act.listTokens(query.principal))),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/tokens', access: 'identity.manage', tags: ['identity'],
      summary: 'Issue a token for a principal: the answer is the only time it is shown',
      request: { body: Type.Object({ principal: PrincipalName, name: TokenName, expires_at: Type.Optional(Instant) }, closed) },
      response: { 201: IssuedToken },
      handler: async ({ body }) => (act === undefined ? off() : issuedOf(await act.issueToken(body.principal, { name: body.name, expiresAt: expiry(body.expires_at) }))),
    }),

    defineRoute({
      method: 'DELETE', url: '/api/v1/tokens/:id', access: 'identity.manage', tags: ['identity'],
      summary: 'Revoke a token (again: harmless, the answer is the first revocation)',
      request: { params: TokenParams },
      response: { 200: Type.Object({ token: Type.Ref('TokenInfo') }) },
      handler: async ({ params }) => (act === undefined ? off() : tokenOf(await act.revokeToken(params.id))),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/tokens/:id/rotate', access: 'identity.manage', tags: ['identity'],
      summary: 'A new token for the same principal and name; the old one is revoked in the same step',
      request: { params: TokenParams, querystring: Type.Object({ expires_at: Type.Optional(Instant) }, closed) },
      response: { 201: IssuedToken },
      handler: async ({ params, query }) => (act === undefined ? off() : issuedOf(await act.rotateToken(params.id, query.expires_at === undefined ? {} : { expiresAt: new Date(query.expires_at) }))),
    }),
  ];
};
