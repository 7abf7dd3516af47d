// Regions: membership (an operator's), heartbeats (the region's own), health, sync lag and what
// each still has to apply.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import { effectiveRegionState } from '../../../projections/health.js';
import { mayActFor, type ApiDeps } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import * as present from '../present.js';
import { cursorIn, defineRoute, paged, viewAt } from '../route.js';
import {
  HeartbeatBody, PageQuery, Pending, ReadQuery, RegionId, RegisterRegionBody, WriteHeaders, WriteQuery, Written, closed, page,
} from '../schemas.js';
import { base, write, written } from '../writes.js';

const RegionParams = Type.Object({ region_id: RegionId }, closed);
const notRegistered = (id: string) => apiError('NOT_FOUND', `region_id: ${id} is not a registered region`);
const REGION_FIELDS = { region: 'region_id' };

export const regionRoutes = (deps: ApiDeps) => [
  defineRoute({
    method: 'GET', url: '/api/v1/regions', access: 'regions.read', tags: ['regions'],
    summary: 'List regions with their health, sync lag, pending count and last heartbeat',
    request: {
      querystring: Type.Object({
        ...ReadQuery, ...PageQuery,
        state: Type.Optional(Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('offline')])),
        active: Type.Optional(Type.Boolean()),
      }, closed),
    },
    response: { 200: page(Type.Ref('Region')) },
    handler: async ({ query, url }, call, reply) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const p = await view.right.page('regions', {
        after: cursorIn(query.cursor), limit: query.limit ?? 100,
        keep: (r) => (query.active === undefined || r.active === query.active) && (query.state === undefined || effectiveRegionState(r) === query.state),
      });
      const items = await Promise.all(p.items.map(async (r) => present.region(r, await view.right.pendingCount(r.id))));
      return paged(reply, url, items, p.next, view.right.seq);
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/regions/:region_id', access: 'regions.read', tags: ['regions'],
    summary: 'One region (a deregistered one too, with active: false)',
    request: { params: RegionParams, querystring: Type.Object({ ...ReadQuery }, closed) },
    response: { 200: Type.Object({ region: Type.Ref('Region'), view_sequence: Type.Integer() }) },
    handler: async ({ params, query }, call) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const r = await view.right.get('regions', params.region_id);
      if (r === undefined) return E.left(notRegistered(params.region_id));
      return E.right({ region: present.region(r, await view.right.pendingCount(r.id)), view_sequence: view.right.seq });
    },
  }),

  defineRoute({
    method: 'PUT', url: '/api/v1/regions/:region_id', access: 'regions.manage', tags: ['regions'],
    summary: 'Register a region, or update its description',
    request: { params: RegionParams, querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: RegisterRegionBody },
    response: { 200: Written },
    handler: async (input, call) => {
      const { params: { region_id }, body: b } = input;
      const event = {
        ...base(input), type: 'region.registered', region: region_id, name: b.name, endpoint: b.endpoint,
        location: { latitude: b.location.latitude, longitude: b.location.longitude, ...(b.location.name ? { name: b.location.name } : {}) },
        capacity: { totalBytes: b.capacity_bytes },
      };
      return written(await write(deps, call, input, event, { names: { region: 'region_id', name: 'name', endpoint: 'endpoint', location: 'location', capacity: 'capacity_bytes' } }));
    },
  }),

  defineRoute({
    method: 'DELETE', url: '/api/v1/regions/:region_id', access: 'regions.manage', tags: ['regions'],
    summary: 'Deregister a region (it stays listed with active: false)',
    request: {
      params: RegionParams,
      querystring: Type.Object({ ...WriteQuery, reason: Type.Optional(Type.String({ maxLength: 1024 })) }, closed),
      headers: WriteHeaders,
    },
    response: { 200: Written },
    handler: async (input, call) => {
      const event = { ...base(input), type: 'region.deregistered', region: input.params.region_id, ...(input.query.reason ? { reason: input.query.reason } : {}) };
      return written(await write(deps, call, input, event, { names: REGION_FIELDS }));
    },
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/regions/:region_id/heartbeats', access: 'regions.heartbeat', tags: ['regions'],
    summary: "A region's heartbeat: its state, sync lag, storage used and load",
    request: { params: RegionParams, querystring: Type.Object({ ...WriteQuery }, closed), headers: WriteHeaders, body: HeartbeatBody },
    response: { 200: Written },
    handler: async (input, call) => {
      const { params: { region_id }, body: b } = input;
      const event = { ...base(input), type: 'region.heartbeat', region: region_id, status: { state: b.state, syncLag: b.sync_lag, storageUsed: b.storage_used, loadLevel: b.load_level } };
      return written(await write(deps, call, input, event, { names: { region: 'region_id', status: '(body)' } }));
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/regions/:region_id/pending', access: 'sync.read', tags: ['regions', 'files'],
    summary: 'The versions a region still has to apply, in file id order',
    request: {
      params: RegionParams,
      querystring: Type.Object({ ...ReadQuery, ...PageQuery, since: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'only versions stored after this sequence' })) }, closed),
    },
    response: { 200: page(Pending) },
    handler: async ({ params, query, url }, call, reply) => {
      const allowed = mayActFor(call, 'sync.read', params.region_id);
      if (E.isLeft(allowed)) return allowed;
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      if ((await view.right.get('regions', params.region_id)) === undefined) return E.left(notRegistered(params.region_id));
      const since = query.since ?? 0;
      const p = await view.right.page('pending', { keyPrefix: `${params.region_id}/`, after: cursorIn(query.cursor), limit: query.limit ?? 100, keep: (c) => c.seq > since });
      return paged(reply, url, p.items.map(present.pending), p.next, view.right.seq);
    },
  }),
];
