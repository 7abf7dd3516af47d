// Files: the global metadata (with an ETag from the vector clock), where the copies are, one file's
// history from the stream, and a region's changes (register, update, delete) with If-Match.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import type { FileRecord } from '../../../projections/view.js';
import type { ApiDeps } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { fileHistory } from '../../audit/history.js';
import type { StreamAccess } from '../../audit/context.js';
import { audited } from '../auditErrors.js';
import * as present from '../present.js';
import { defineRoute, pointAt } from '../route.js';
import { FileChangeBody, FileId, FileOf, ReadQuery, RegisterFileBody, Sequence, WriteHeaders, WriteQuery, Written, closed } from '../schemas.js';
import { base, ifMatch, write, writeResult } from '../writes.js';

const FileParams = Type.Object({ file_id: FileId }, closed);
const notRegistered = (id: string) => apiError('NOT_FOUND', `file_id: ${id} is not registered`);
/** How the bodies spell the change event's fields. */
const FILE_FIELDS = { file: '(body)', fileId: 'file_id', clock: 'vector_clock', region: 'region_id', replicas: 'replicas' };

type Change = { region_id: string; path: string; size: number; checksum?: string; modified_at: string; vector_clock: Record<string, number>; attributes?: Record<string, string>; deleted?: boolean };

const changeEvent = (envelope: ReturnType<typeof base>, fileId: string, c: Change, registering: boolean, replicas?: number) => {
  if (c.deleted === true && !registering) return { ...envelope, type: 'file.deleted', region: c.region_id, fileId, clock: c.vector_clock };
  const file = { fileId, path: c.path, size: c.size, checksum: c.checksum ?? '', modifiedAt: c.modified_at, attributes: c.attributes ?? {} };
  return { ...envelope, type: registering ? 'file.registered' : 'file.updated', region: c.region_id, clock: c.vector_clock, file, ...(replicas ? { replicas } : {}) };
};

const currentOf = (f: FileRecord | undefined) => (f === undefined ? undefined : present.file(f));

export const fileRoutes = (deps: ApiDeps, streams: StreamAccess) => [
  defineRoute({
    method: 'GET', url: '/api/v1/files/:file_id', access: 'files.read', tags: ['files'],
    summary: "A file's global metadata, its copies and its version's ETag",
    request: { params: FileParams, querystring: Type.Object({ ...ReadQuery }, closed) },
    response: { 200: FileOf },
    handler: async ({ params, query }, call, reply) => {
      const view = await pointAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const f = await view.right.get('files', params.file_id);
      if (f === undefined) return E.left(notRegistered(params.file_id));
      reply.header('etag', present.fileEtag(f));
      return E.right({ file: present.file(f), view_sequence: view.right.seq });
    },
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/files/batch-get', access: 'files.read', tags: ['files'],
    summary: 'Many files at one view sequence; unknown ids are listed as missing',
    request: {
      querystring: Type.Object({ ...ReadQuery }, closed),
      body: Type.Object({ file_ids: Type.Array(FileId, { minItems: 1, maxItems: 1000 }) }, closed),
    },
    response: { 200: Type.Object({ files: Type.Array(Type.Ref('File')), missing: Type.Array(Type.String()), view_sequence: Sequence }) },
    handler: async ({ body, query }, call) => {
      const view = await pointAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const ids = [...new Set(body.file_ids)];
      const found = await view.right.getMany('files', ids);
      return E.right({
        files: ids.flatMap((id) => { const f = found.get(id); return f === undefined ? [] : [present.file(f)]; }),
        missing: ids.filter((id) => !found.has(id)),
        view_sequence: view.right.seq,
      });
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/files/:file_id/locations', access: 'files.read', tags: ['files'],
    summary: "Which regions hold a copy of a file, and whether it is the current version",
    request: { params: FileParams, querystring: Type.Object({ ...ReadQuery }, closed) },
    response: { 200: Type.Object({ file_id: Type.String(), primary: Type.String(), locations: Type.Array(Type.Ref('Location')), view_sequence: Sequence }) },
    handler: async ({ params, query }, call) => {
      const view = await pointAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const f = await view.right.get('files', params.file_id);
      if (f === undefined) return E.left(notRegistered(params.file_id));
      return E.right({ file_id: f.fileId, primary: f.primary, locations: f.locations.map(present.location), view_sequence: view.right.seq });
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/files/:file_id/history', access: 'audit.read', tags: ['files', 'audit'],
    summary: "One file's life from the stream: every event that named it and what the fold made of it",
    description: 'Folds the whole stream (what an event did depends on everything before it): as slow as `jzse history`.',
    request: { params: FileParams },
    response: {
      200: Type.Object({
        file_id: Type.String(),
        folded_to: Sequence,
        entries: Type.Array(Type.Object({
          sequence: Sequence, stored_at: Type.String(), event_id: Type.Union([Type.String(), Type.Null()]), type: Type.Union([Type.String(), Type.Null()]),
          by: Type.Union([Type.String(), Type.Null()]), outcome: Type.String(), reason: Type.Optional(Type.String()), effects: Type.Array(Type.String()),
        })),
      }),
    },
    handler: async ({ params }) => {
      const h = await audited(() => fileHistory(streams, params.file_id), 'file_id');
      if (E.isLeft(h)) return h;
      return E.right({
        file_id: h.right.fileId,
        folded_to: h.right.foldedTo,
        entries: h.right.entries.map((e) => ({
          sequence: e.seq, stored_at: e.storedAt, event_id: e.eventId, type: e.type, by: e.by, outcome: e.outcome, ...(e.reason === undefined ? {} : { reason: e.reason }), effects: [...e.effects],
        })),
      });
    },
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/files', access: 'changes.write', tags: ['files'],
    summary: 'A region registers a new file',
    request: { querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: RegisterFileBody },
    response: { 201: Written },
    handler: async (input, call, reply) => {
      const { body } = input;
      const result = await write(deps, call, input, changeEvent(base(input), body.file_id, body, true, body.replicas), { names: FILE_FIELDS });
      if (E.isRight(result)) reply.header('location', `/api/v1/files/${body.file_id}`);
      return E.map((s: Parameters<typeof writeResult>[0]) => ({ write: writeResult(s) }))(result);
    },
  }),

  defineRoute({
    method: 'PUT', url: '/api/v1/files/:file_id', access: 'changes.write', tags: ['files'],
    summary: "A region's new version of a file (deleted: true deletes it); If-Match refuses a lost update with 412",
    request: { params: FileParams, querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: FileChangeBody },
    response: {
      200: Type.Object({
        write: Type.Ref('WriteResult'),
        outcome: Type.Union(['APPLIED', 'CONFLICT', 'ACCEPTED', 'NO_OP'].map((o) => Type.Literal(o))),
        conflict_id: Type.Union([Type.String(), Type.Null()]),
      }),
    },
    handler: async (input, call, reply) => {
      const { params: { file_id }, body } = input;
      const event = changeEvent(base(input), file_id, body, false);
      const result = await write(deps, call, input, event, {
        names: FILE_FIELDS,
        skipNoOp: true,
        precondition: (state) => {
          const f = state.files.get(file_id);
          return ifMatch(input.headers['if-match'], f === undefined ? null : present.fileEtag(f), `file ${file_id}`, currentOf(f));
        },
        details: (r, state) => (r.code === 'stale' ? { current: currentOf(state.files.get(file_id)) } : undefined),
      });
      if (E.isLeft(result)) return result;
      const { decision, folded } = result.right;
      const outcome = decision.kind === 'no_op' ? 'NO_OP' : folded === 'conflict' ? 'CONFLICT' : folded === 'applied' ? 'APPLIED' : 'ACCEPTED';
      if (folded === 'applied') {
        const now = await deps.reader.file(file_id);
        if (now !== undefined) reply.header('etag', present.fileEtag(now));
      }
      return E.right({ write: writeResult(result.right), outcome, conflict_id: outcome === 'CONFLICT' ? result.right.write.event_id : null });
    },
  }),
];
