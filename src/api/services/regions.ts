// RegionService: Register, Deregister, Heartbeat, GetActiveRegions, GetRegion.
import * as E from 'fp-ts/lib/Either.js';
import type * as grpc from '@grpc/grpc-js';
import { effectiveRegionState } from '../../../projections/health.js';
import { append, decodeRequest, envelope, readAt, unary, type ApiDeps, type Call, type Result } from '../context.js';
import { apiError } from '../errors.js';
import { region } from '../present.js';
import { DeregisterRequest, GetActiveRegionsRequest, GetRegionRequest, HeartbeatRequest, RegisterRegionRequest } from '../requests.js';

/** How Deregister and Heartbeat requests spell the event's fields. */
const REGION_FIELDS = { region: 'region_id', at: 'write.at' };

const written = E.map((w: unknown) => ({ write: w }));

export const regionService = (deps: ApiDeps): grpc.UntypedServiceImplementation => ({
  Register: unary(deps, 'RegionService.Register', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(RegisterRegionRequest, request);
    if (E.isLeft(req)) return req;
    const { region: r, write } = req.right;
    const event = {
      ...envelope(write), type: 'region.registered', region: r.id, name: r.name, endpoint: r.endpoint,
      location: { latitude: r.location.latitude, longitude: r.location.longitude, ...(r.location.name ? { name: r.location.name } : {}) },
      capacity: { totalBytes: r.capacity.total_bytes },
    };
    return written(await append(deps, call, event, write, { region: 'region.id', at: 'write.at' }));
  }),

  Deregister: unary(deps, 'Deregister', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(DeregisterRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, reason, write } = req.right;
    const event = { ...envelope(write), type: 'region.deregistered', region: region_id, ...(reason ? { reason } : {}) };
    return written(await append(deps, call, event, write, REGION_FIELDS));
  }),

  Heartbeat: unary(deps, 'Heartbeat', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(HeartbeatRequest, request);
    if (E.isLeft(req)) return req;
    const { region_id, status, write } = req.right;
    const event = {
      ...envelope(write), type: 'region.heartbeat', region: region_id,
      status: { state: status.state.toLowerCase(), syncLag: status.sync_lag, storageUsed: status.storage_used, loadLevel: status.load_level },
    };
    return written(await append(deps, call, event, write, REGION_FIELDS));
  }),

  GetActiveRegions: unary(deps, 'GetActiveRegions', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(GetActiveRegionsRequest, request);
    if (E.isLeft(req)) return req;
    const view = await readAt(deps, call, req.right.read);
    if (E.isLeft(view)) return view;
    const page = await view.right.page('regions', { limit: Number.MAX_SAFE_INTEGER, keep: (r) => r.active && effectiveRegionState(r) !== 'offline' });
    return E.right({ regions: await Promise.all(page.items.map(async (r) => region(r, await view.right.pendingCount(r.id)))), view_sequence: String(view.right.seq) });
  }),

  GetRegion: unary(deps, 'GetRegion', async (request: unknown, call: Call): Result<unknown> => {
    const req = decodeRequest(GetRegionRequest, request);
    if (E.isLeft(req)) return req;
    const view = await readAt(deps, call, req.right.read);
    if (E.isLeft(view)) return view;
    const r = await view.right.get('regions', req.right.region_id);
    return r === undefined ? E.left(apiError('NOT_FOUND', `region_id: ${req.right.region_id} is not a registered region`)) : E.right({ region: region(r, await view.right.pendingCount(r.id)), view_sequence: String(view.right.seq) });
  }),
});
