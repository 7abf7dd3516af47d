// MetadataService: Get, Update (vector-clock checked), Register, GetLocations, BatchGet.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { compareVectorClocks, normalizeClock } from '../../../projections/vectorClock.js';
import { policyAmong } from '../../../projections/policies.js';
import type { FileRecord } from '../../../projections/view.js';
import { append, decodeRequest, envelope, readPoint, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { MAX_DETAIL_BYTES, apiError } from '../errors.js';
import type { SyncDemanded } from '../../../streams/events.js';
import { derivedId } from '../../../streams/ids.js';
import { globalFile } from '../present.js';
import { batchGetResponse, getResponse, locationsResponse } from '../wire.js';
import { BatchGetRequest, GetRequest, RegisterRequest, UpdateRequest, type ProtoFileMetadata } from '../requests.js';

export const fileOf = (m: ProtoFileMetadata) => ({
  fileId: m.file_id,
  path: m.path,
  size: m.size,
  checksum: m.checksum,
  modifiedAt: m.modified_at,
  attributes: m.attributes,
});

/** The change event a region's new metadata stands for (deleted = true is a delete). */
export const changeOf = (
  base: ReturnType<typeof envelope>,
  type: 'file.registered' | 'file.updated' | 'file.deleted',
  region: string,
  m: ProtoFileMetadata,
  replicas: number,
) =>
  type === 'file.deleted'
    ? { ...base, type, region, fileId: m.file_id, clock: m.vector_clock }
    : { ...base, type, region, clock: m.vector_clock, file: fileOf(m), ...(type === 'file.registered' && replicas > 0 ? { replicas } : {}) };

/** The demand recorded for a region reading an on-demand file: one id per (region, file, version owed). */
export const demandEvent = (region: string, fileId: string, eventId: string, at: string): SyncDemanded => ({
  schema: 1, id: derivedId('demand', region, fileId, eventId), type: 'sync.demanded', at, region, fileIds: [fileId],
});

/** A region asked for a file on an on-demand path that it still owes: record the demand. */
const demandIfOnDemand = async (deps: ApiDeps, call: Call, region: string, file: FileRecord): Promise<void> => {
  const owed = await deps.reader.get('pending', `${region}/${file.fileId}`);
  if (owed === undefined || owed.requested != null || owed.demanded === true) return;
  const policies = await deps.reader.page('policies', { limit: Number.MAX_SAFE_INTEGER });
  if (policyAmong(policies.items, file.path).sync !== 'on_demand') return;
  const written = await append(deps, call, demandEvent(region, file.fileId, owed.eventId, new Date().toISOString()), false);
  if (E.isLeft(written)) deps.log.warn({ region, fileId: file.fileId, err: written.left.message }, 'could not record an on-demand request');
};

const notFound = (fileId: string) => apiError('NOT_FOUND', `file_id: ${fileId} is not registered`);

/** ABORTED's trailer: the stored version, without attributes and locations when too large for a trailer (Get has them). */
const currentVersion = (f: FileRecord) => {
  const full = globalFile(f);
  if (Buffer.byteLength(JSON.stringify(full)) <= MAX_DETAIL_BYTES) return full;
  return { ...full, metadata: { ...full.metadata, attributes: {} }, locations: [], truncated: true };
};

export const metadataService = (deps: ApiDeps): grpc.UntypedServiceImplementation => ({
  Get: unary(deps, 'Get', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(GetRequest, request);
    if (E.isLeft(req)) return req;
    const view = await readPoint(deps, call, req.right.read);
    if (E.isLeft(view)) return view;
    const file = await view.right.get('files', req.right.file_id);
    if (file === undefined) return E.left(notFound(req.right.file_id));
    if (req.right.requesting_region) await demandIfOnDemand(deps, call, req.right.requesting_region, file);
    return E.right(getResponse(file, view.right.seq));
  }),

  Register: unary(deps, 'Register', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(RegisterRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, metadata, replicas, write } = req.right;
    const existing = await deps.reader.file(metadata.file_id);
    if (existing !== undefined && !(existing.deleted && compareVectorClocks(metadata.vector_clock, existing.clock) === 'AFTER')) {
      return E.left(apiError('ALREADY_EXISTS', `metadata.file_id: ${metadata.file_id} is already registered`));
    }
    const result = await append(deps, call, changeOf(envelope(write), 'file.registered', region_id, metadata, replicas), write?.wait_for_view ?? false);
    return E.map((w) => ({ write: w }))(result);
  }),

  Update: unary(deps, 'Update', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(UpdateRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, metadata, write } = req.right;
    const current = await deps.reader.file(metadata.file_id);
    if (current === undefined) return E.left(notFound(metadata.file_id));
    const relation = compareVectorClocks(metadata.vector_clock, current.clock);
    if (relation === 'EQUAL') {
      const view = await deps.reader.checkpoint();
      return E.right({ write: { sequence: '0', event_id: '', duplicate: false, view_reached: true, view_sequence: String(view) }, outcome: 'NO_OP', conflict_id: '', current: globalFile(current) });
    }
    if (relation === 'BEFORE') {
      return E.left(apiError('ABORTED',
        `metadata.vector_clock: ${JSON.stringify(normalizeClock(metadata.vector_clock))} is before the stored version ${JSON.stringify(current.clock)}; fetch it and retry`,
        { 'current-version': currentVersion(current) }));
    }
    const base = envelope(write);
    const result = await append(deps, call, changeOf(base, metadata.deleted ? 'file.deleted' : 'file.updated', region_id, metadata, 0), write?.wait_for_view ?? false);
    return E.map((w) => ({
      write: w,
      outcome: relation === 'CONCURRENT' ? 'CONFLICT' : 'APPLIED',
      conflict_id: relation === 'CONCURRENT' ? base.id : '',
      current: globalFile(current),
    }))(result);
  }),

  GetLocations: unary(deps, 'GetLocations', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(GetRequest, request);
    if (E.isLeft(req)) return req;
    const view = await readPoint(deps, call, req.right.read);
    if (E.isLeft(view)) return view;
    const file = await view.right.get('files', req.right.file_id);
    return file === undefined ? E.left(notFound(req.right.file_id)) : E.right(locationsResponse(file, view.right.seq));
  }),

  BatchGet: unary(deps, 'BatchGet', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(BatchGetRequest, request);
    if (E.isLeft(req)) return req;
    const view = await readPoint(deps, call, req.right.read);
    if (E.isLeft(view)) return view;
    const ids = [...new Set(req.right.file_ids)];
    const found = await view.right.getMany('files', ids);
    return E.right(await batchGetResponse(
      ids.flatMap((id) => { const f = found.get(id); return f ? [f] : []; }),
      ids.filter((id) => !found.has(id)),
      view.right.seq,
    ));
  }),
});
