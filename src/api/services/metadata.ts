// MetadataService: Get, Update (vector-clock checked), Register, GetLocations, BatchGet.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { policyAmong } from '../../../projections/policies.js';
import type { FileRecord } from '../../../projections/view.js';
import { append, decodeRequest, envelope, readPoint, submit, unary, type ApiDeps, type Call, type Result, type Submitted } from '../context.js';
import { MAX_DETAIL_BYTES, apiError, type FieldNames } from '../errors.js';
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

/** How Register and Update requests spell the change event's fields. */
const FILE_FIELDS: FieldNames = { file: 'metadata', fileId: 'metadata.file_id', clock: 'metadata.vector_clock', region: 'region_id', at: 'write.at' };

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
    const result = await submit(deps, call, changeOf(envelope(write), 'file.registered', region_id, metadata, replicas), { wait: write?.wait_for_view ?? false, minSequence: write?.min_sequence ?? 0, names: FILE_FIELDS });
    return E.map((s: Submitted) => ({ write: s.write }))(result);
  }),

  Update: unary(deps, 'Update', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(UpdateRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, metadata, write } = req.right;
    const event = changeOf(envelope(write), metadata.deleted ? 'file.deleted' : 'file.updated', region_id, metadata, 0);
    const result = await submit(deps, call, event, {
      wait: write?.wait_for_view ?? false,
      minSequence: write?.min_sequence ?? 0,
      names: FILE_FIELDS,
      skipNoOp: true,
      details: (r, state) => {
        const current = state.files.get(metadata.file_id);
        return r.code === 'stale' && current !== undefined ? { 'current-version': currentVersion(current) } : undefined;
      },
    });
    if (E.isLeft(result)) return result;
    const { write: w, decision, folded, state } = result.right;
    // The outcome is the fold's own verdict when waited for; otherwise the event is only known to be stored.
    const outcome = decision.kind === 'no_op' ? 'NO_OP' : folded === 'conflict' ? 'CONFLICT' : folded === 'applied' ? 'APPLIED' : 'ACCEPTED';
    const current = state.files.get(metadata.file_id);
    return E.right({
      write: w,
      outcome,
      conflict_id: outcome === 'CONFLICT' ? event.id : '',
      ...(current === undefined ? {} : { current: globalFile(current) }),
    });
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
