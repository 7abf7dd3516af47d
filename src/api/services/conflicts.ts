// ConflictService: Detect (a pure query), Resolve (an operator's event), ListConflicts.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { compareVectorClocks } from '../../../projections/vectorClock.js';
import { append, decodeRequest, envelope, readAt, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { conflict } from '../present.js';
import { DetectRequest, ListConflictsRequest, ResolveRequest } from '../requests.js';
import { fileOf } from './metadata.js';

/** How Resolve requests spell the event's fields. */
const RESOLVE_FIELDS = { conflictId: 'conflict_id', 'choice.keep': 'keep', 'choice.merged': 'merged', operator: 'operator', at: 'write.at' };

export const conflictService = (deps: ApiDeps): grpc.UntypedServiceImplementation => ({
  Detect: unary(deps, 'Detect', (request: unknown): Result<unknown> => {
    const req = decodeRequest(DetectRequest, request);
    if (E.isLeft(req)) return Promise.resolve(req);
    const relation = compareVectorClocks(req.right.local.vector_clock, req.right.remote.vector_clock);
    return Promise.resolve(E.right({ relation, conflict: relation === 'CONCURRENT' }));
  }),

  Resolve: unary(deps, 'Resolve', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(ResolveRequest, request);
    if (E.isLeft(req)) return req;
    const r = req.right;
    const choice = r.choice === 'keep' ? { keep: r.keep } : { merged: fileOf(r.merged) };
    const event = { ...envelope(r.write), type: 'conflict.resolved', operator: r.operator, conflictId: r.conflict_id, choice };
    return E.map((w) => ({ write: w }))(await append(deps, call, event, r.write, RESOLVE_FIELDS));
  }),

  ListConflicts: unary(deps, 'ListConflicts', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(ListConflictsRequest, request);
    if (E.isLeft(req)) return req;
    const { file_id, status, page_size, page_token, read } = req.right;
    const view = await readAt(deps, call, read);
    if (E.isLeft(view)) return view;
    const page = await view.right.page('conflicts', {
      after: page_token,
      limit: page_size,
      keep: (c) => (file_id === '' || c.fileId === file_id) && (status === '' || c.status === status),
    });
    return E.right({ conflicts: page.items.map(conflict), next_page_token: page.next, view_sequence: String(view.right.seq) });
  }),
});
