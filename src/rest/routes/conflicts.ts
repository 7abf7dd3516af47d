// Conflicts: concurrent writes, filtered and counted; both versions side by side; an operator's
// resolution (keep a side or merged metadata), optionally conditional on the file's ETag.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import type { ConflictRecord, View } from '../../../projections/view.js';
import type { ApiDeps } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { patternMatches } from '../../../projections/policies.js';
import * as present from '../present.js';
import { cursorIn, defineRoute, paged, viewAt } from '../route.js';
import { ConflictDetail, ConflictStrategy, EventId, PageQuery, ReadQuery, RegionId, ResolveBody, WriteHeaders, WriteQuery, Written, closed, page } from '../schemas.js';
import { base, ifMatch, write, written } from '../writes.js';

const ConflictParams = Type.Object({ conflict_id: EventId }, closed);
const RESOLVE_FIELDS = { conflictId: 'conflict_id', 'choice.keep': 'keep', 'choice.merged': 'merged', operator: 'operator' };

type Filter = { state?: 'open' | 'resolved'; strategy?: string; path?: string; region?: string; file_id?: string };

const matches = (f: Filter, withState: boolean) => (c: ConflictRecord): boolean =>
  (!withState || f.state === undefined || c.status === f.state) &&
  (f.strategy === undefined || c.strategy === f.strategy) &&
  (f.file_id === undefined || c.fileId === f.file_id) &&
  (f.region === undefined || c.local.region === f.region || c.remote.region === f.region) &&
  (f.path === undefined || patternMatches(f.path, c.local.file.path) || patternMatches(f.path, c.remote.file.path));

export const conflictRoutes = (deps: ApiDeps) => [
  defineRoute({
    method: 'GET', url: '/api/v1/conflicts', access: 'conflicts.read', tags: ['conflicts'],
    summary: 'Conflicts, filtered by state, strategy, path (prefix or glob), region or file; with counts by state',
    request: {
      querystring: Type.Object({
        ...ReadQuery, ...PageQuery,
        state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
        strategy: Type.Optional(ConflictStrategy),
        path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        region: Type.Optional(RegionId),
        file_id: Type.Optional(EventId),
      }, closed),
    },
    response: { 200: page(Type.Ref('Conflict'), { counts: Type.Object({ open: Type.Integer(), resolved: Type.Integer() }, { description: 'all conflicts matching the other filters, by state' }) }) },
    handler: async ({ query, url }, call, reply) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const p = await view.right.page('conflicts', { after: cursorIn(query.cursor), limit: query.limit ?? 100, keep: matches(query, true) });
      // Counts read the same checkpoint: the numbers agree with the page.
      const all = await view.right.page('conflicts', { limit: Number.MAX_SAFE_INTEGER, keep: matches(query, false) });
      const counts = { open: all.items.filter((c) => c.status === 'open').length, resolved: all.items.filter((c) => c.status === 'resolved').length };
      return paged(reply, url, p.items.map(present.conflict), p.next, view.right.seq, { counts });
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/conflicts/:conflict_id', access: 'conflicts.read', tags: ['conflicts'],
    summary: 'One conflict: both versions side by side, the fields they differ in, and the file ETag to resolve against',
    request: { params: ConflictParams, querystring: Type.Object({ ...ReadQuery }, closed) },
    response: { 200: ConflictDetail },
    handler: async ({ params, query }, call) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const c = await view.right.get('conflicts', params.conflict_id);
      if (c === undefined) return E.left(apiError('NOT_FOUND', `conflict_id: ${params.conflict_id} is not a conflict`));
      const f = await view.right.get('files', c.fileId);
      return E.right({ conflict: present.conflict(c), differences: present.differences(c), file_etag: f === undefined ? null : present.fileEtag(f), view_sequence: view.right.seq });
    },
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/conflicts/:conflict_id/resolution', access: 'conflicts.resolve', tags: ['conflicts'],
    summary: 'Resolve an open conflict: keep local, keep remote, or merged metadata; If-Match: the file ETag',
    request: { params: ConflictParams, querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: ResolveBody },
    response: { 200: Written },
    handler: async (input, call) => {
      const { params: { conflict_id }, body } = input;
      const choice = 'keep' in body ? { keep: body.keep } : {
        merged: { fileId: '', path: body.merged.path, size: body.merged.size, checksum: body.merged.checksum ?? '', modifiedAt: body.merged.modified_at, attributes: body.merged.attributes ?? {} },
      };
      const operator = call.caller?.principal.name ?? 'unauthenticated';
      const precondition = (state: View) => {
        const c = state.conflicts.get(conflict_id);
        const f = c === undefined ? undefined : state.files.get(c.fileId);
        return ifMatch(input.headers['if-match'], f === undefined ? null : present.fileEtag(f), `file ${c?.fileId ?? '(none)'}`, f === undefined ? undefined : present.file(f));
      };
      const withFile = async () => {
        // The merged metadata names the conflict's file: the body cannot point it elsewhere.
        if (!('merged' in choice)) return choice;
        const c = await deps.reader.conflict(conflict_id);
        return { merged: { ...choice.merged, fileId: c?.fileId ?? conflict_id } };
      };
      const event = { ...base(input), type: 'conflict.resolved', operator, conflictId: conflict_id, choice: await withFile() };
      return written(await write(deps, call, input, event, { names: RESOLVE_FIELDS, precondition }));
    },
  }),
];
