// SyncService: HandleChange, BroadcastChange, GetPendingChanges, AckSync.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { append, decodeRequest, envelope, mayActFor, readAt, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { apiError } from '../errors.js';
import { pending } from '../present.js';
import {
  AckSyncRequest, BroadcastChangeRequest, GetPendingChangesRequest, HandleChangeRequest, type ChangeEvent,
} from '../requests.js';
import { changeOf } from './metadata.js';

const TYPES = { CREATED: 'file.registered', UPDATED: 'file.updated', DELETED: 'file.deleted' } as const;

/** How HandleChange and BroadcastChange requests spell the change event's fields. */
const CHANGE_FIELDS = { file: 'event.metadata', fileId: 'event.metadata.file_id', clock: 'event.metadata.vector_clock', region: 'event.region_id', at: 'event.timestamp', replicas: 'event.replicas' };

const appendChange = (deps: ApiDeps, call: Call, e: ChangeEvent, wait: boolean) =>
  append(deps, call, changeOf(
    envelope({ event_id: e.event_id, at: e.timestamp }),
    TYPES[e.type], e.region_id, e.metadata, e.replicas,
  ), wait, CHANGE_FIELDS);

export const syncService = (deps: ApiDeps): grpc.UntypedServiceImplementation => ({
  HandleChange: unary(deps, 'HandleChange', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(HandleChangeRequest, request);
    if (E.isLeft(req)) return req;
    return E.map((w) => ({ write: w }))(await appendChange(deps, call, req.right.event, req.right.wait_for_view));
  }),

  BroadcastChange: unary(deps, 'BroadcastChange', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(BroadcastChangeRequest, request);
    if (E.isLeft(req)) return req;
    const { event, exclude_region, wait_for_view } = req.right;
    const written = await appendChange(deps, call, event, wait_for_view);
    if (E.isLeft(written)) return written;
    const excluded = exclude_region || event.region_id;
    const regions = await deps.reader.page('regions', { limit: 1000, keep: (r) => r.active && r.id !== excluded });
    return E.right({ write: written.right, target_regions: regions.items.map((r) => r.id) });
  }),

  GetPendingChanges: unary(deps, 'GetPendingChanges', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(GetPendingChangesRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, since, page_size, page_token, read } = req.right;
    const allowed = mayActFor(call, 'sync.read', region_id);
    if (E.isLeft(allowed)) return allowed;
    const view = await readAt(deps, call, read);
    if (E.isLeft(view)) return view;
    if ((await view.right.get('regions', region_id)) === undefined) return E.left(apiError('NOT_FOUND', `region_id: ${region_id} is not a registered region`));
    const page = await view.right.page('pending', { keyPrefix: `${region_id}/`, after: page_token, limit: page_size, keep: (p) => p.seq > since });
    return E.right({ changes: page.items.map(pending), next_page_token: page.next, view_sequence: String(view.right.seq) });
  }),

  AckSync: unary(deps, 'AckSync', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(AckSyncRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, event_ids, write } = req.right;
    const allowed = mayActFor(call, 'sync.ack', region_id);
    if (E.isLeft(allowed)) return allowed;
    const wanted = new Set(event_ids);
    const found = await deps.reader.pendingOf(region_id, '', Number.MAX_SAFE_INTEGER, (p) => wanted.has(p.eventId));
    if (found.items.length === 0) {
      return E.left(apiError('NOT_FOUND', `event_ids: no pending change of region ${region_id} has any of these event ids`));
    }
    const known = new Set(found.items.map((p) => p.eventId));
    const ack = {
      ...envelope(write),
      type: 'sync.acked', region: region_id, files: found.items.map((p) => ({ fileId: p.fileId, clock: p.clock })),
    };
    const written = await append(deps, call, ack, write, { region: 'region_id', at: 'write.at' });
    return E.map((w) => ({ write: w, acked_file_ids: found.items.map((p) => p.fileId), unknown_event_ids: event_ids.filter((id) => !known.has(id)) }))(written);
  }),
});
