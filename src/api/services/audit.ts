// AuditService: ListRejections (the events the fold refused, with their typed reasons).
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { matchesRejection } from '../../audit/rejections.js';
import { decodeRequest, readAt, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { rejectionOf } from '../present.js';
import { ListRejectionsRequest } from '../requests.js';

export const auditService = (deps: ApiDeps): grpc.UntypedServiceImplementation => ({
  ListRejections: unary(deps, 'ListRejections', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(ListRejectionsRequest, request);
    if (E.isLeft(req)) return req;
    const { region, code, stored_after, stored_before, page_size, page_token, read } = req.right;
    const view = await readAt(deps, call, read);
    if (E.isLeft(view)) return view;
    const keep = matchesRejection({
      ...(region === '' ? {} : { region }), ...(code === '' ? {} : { code }),
      ...(stored_after === undefined ? {} : { after: stored_after }), ...(stored_before === undefined ? {} : { before: stored_before }),
    });
    const page = await view.right.page('rejected', { after: page_token, limit: page_size, keep });
    return E.right({ rejections: page.items.map(rejectionOf), next_page_token: page.next, view_sequence: String(view.right.seq) });
  }),
});
