// Policies: operators' sync and conflict strategies per path pattern (an ETag per pattern, the
// event that set it), and which one applies to a path.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import { BUILT_IN_POLICY, policySourcesAmong } from '../../../projections/policies.js';
import type { View } from '../../../projections/view.js';
import type { ApiDeps } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import * as present from '../present.js';
import { cursorIn, defineRoute, paged, viewAt } from '../route.js';
import { EffectivePolicy, PageQuery, PolicyPattern, ReadQuery, Sequence, SetPolicyBody, WriteHeaders, WriteQuery, Written, closed, page } from '../schemas.js';
import { base, ifMatch, write, written } from '../writes.js';

const PatternParams = Type.Object({ pattern: PolicyPattern }, closed);

export const policyRoutes = (deps: ApiDeps) => [
  defineRoute({
    method: 'GET', url: '/api/v1/policies', access: 'policies.read', tags: ['policies'],
    summary: 'Every policy, by pattern',
    request: { querystring: Type.Object({ ...ReadQuery, ...PageQuery }, closed) },
    response: { 200: page(Type.Ref('Policy')) },
    handler: async ({ query, url }, call, reply) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const p = await view.right.page('policies', { after: cursorIn(query.cursor), limit: query.limit ?? 100 });
      return paged(reply, url, p.items.map(present.policy), p.next, view.right.seq);
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/policies/:pattern', access: 'policies.read', tags: ['policies'],
    summary: 'One policy (the pattern URL-encoded, e.g. %2Fprojects%2Fatlas%2F or **), with its ETag',
    request: { params: PatternParams, querystring: Type.Object({ ...ReadQuery }, closed) },
    response: { 200: Type.Object({ policy: Type.Ref('Policy'), view_sequence: Sequence }) },
    handler: async ({ params, query }, call, reply) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const p = await view.right.get('policies', params.pattern);
      if (p === undefined) return E.left(apiError('NOT_FOUND', `pattern: no policy is set for ${JSON.stringify(params.pattern)}`));
      reply.header('etag', present.policyEtag(p));
      return E.right({ policy: present.policy(p), view_sequence: view.right.seq });
    },
  }),

  defineRoute({
    method: 'PUT', url: '/api/v1/policies/:pattern', access: 'policies.write', tags: ['policies'],
    summary: "Set a pattern's sync and/or conflict strategy; If-Match: the policy's ETag (412 if it changed)",
    request: { params: PatternParams, querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: SetPolicyBody },
    response: { 200: Written },
    handler: async (input, call) => {
      const { params: { pattern }, body } = input;
      const event = {
        ...base(input), type: 'policy.set', operator: call.caller?.principal.name ?? 'unauthenticated', pattern,
        ...(body.sync === undefined ? {} : { sync: body.sync }), ...(body.conflict === undefined ? {} : { conflict: body.conflict }),
      };
      const precondition = (state: View) => {
        const p = state.policies.get(pattern);
        return ifMatch(input.headers['if-match'], p === undefined ? null : present.policyEtag(p), `the policy of ${JSON.stringify(pattern)}`, p === undefined ? undefined : present.policy(p));
      };
      return written(await write(deps, call, input, event, { names: { pattern: 'pattern', sync: 'sync', conflict: 'conflict' }, precondition }));
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/effective-policy', access: 'policies.read', tags: ['policies'],
    summary: 'Which sync and conflict strategy applies to a path, and which pattern set each',
    request: { querystring: Type.Object({ ...ReadQuery, path: Type.String({ minLength: 1, maxLength: 4096 }) }, closed) },
    response: { 200: EffectivePolicy },
    handler: async ({ query }, call) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const all = await view.right.page('policies', { limit: Number.MAX_SAFE_INTEGER });
      const from = policySourcesAmong(all.items, query.path);
      return E.right({
        path: query.path,
        sync: from.sync?.sync ?? BUILT_IN_POLICY.sync,
        conflict: from.conflict?.conflict ?? BUILT_IN_POLICY.conflict,
        sync_from: from.sync?.pattern ?? null,
        conflict_from: from.conflict?.pattern ?? null,
        view_sequence: view.right.seq,
      });
    },
  }),
];
