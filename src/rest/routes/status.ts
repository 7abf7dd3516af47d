// Status for operators (the same report as `jzse status`), rejected events, and the two probes load
// balancers and Kubernetes use: /healthz (the process answers) and /readyz (it can serve).
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import type { ApiDeps } from '../../api/context.js';
import { matchesRejection } from '../../audit/rejections.js';
import { status } from '../../audit/status.js';
import type { AuditContext } from '../../audit/context.js';
import * as present from '../present.js';
import { cursorIn, defineRoute, paged, viewAt } from '../route.js';
import { Instant, PageQuery, ReadQuery, RegionId, Sequence, closed, page } from '../schemas.js';
import { REJECTION_CODES } from '../../../projections/rejection.js';

/** What /readyz checks; each a boolean, ready when all are. */
export type Readiness = { readonly nats: boolean; readonly etcd: boolean; readonly identity_store: boolean; readonly view_lag: number | null };

/** The view counts as caught up within this many events of the stream's end (a busy stream is never at 0). */
export const READY_LAG = 1000;

const Check = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Object({ nats: Type.Boolean(), etcd: Type.Boolean(), identity_store: Type.Boolean(), view_caught_up: Type.Boolean() }),
  view_lag: Type.Union([Type.Integer(), Type.Null()]),
});

const Rejection = Type.Object({
  sequence: Sequence, event_id: Type.Union([Type.String(), Type.Null()]), type: Type.Union([Type.String(), Type.Null()]), region: Type.Union([Type.String(), Type.Null()]),
  code: Type.String(), field: Type.String(), reason: Type.String(), subject: Type.String(), stored_at: Type.String(),
});

export const statusRoutes = (deps: ApiDeps, audit: AuditContext, ready: () => Promise<Readiness>) => [
  defineRoute({
    method: 'GET', url: '/healthz', access: 'open', tags: ['probes'],
    summary: 'Alive: the process answers (no token needed)',
    request: {},
    response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    handler: () => Promise.resolve(E.right({ status: 'ok' as const })),
  }),

  defineRoute({
    method: 'GET', url: '/readyz', access: 'open', tags: ['probes'],
    summary: `Ready: NATS, etcd and the identity store reachable, the view within ${READY_LAG} events of the stream (503 otherwise; no token needed)`,
    request: {},
    response: { 200: Check, 503: Check },
    handler: async (_input, _call, reply) => {
      const r = await ready();
      const caughtUp = r.view_lag !== null && r.view_lag <= READY_LAG;
      const body = { ready: r.nats && r.etcd && r.identity_store && caughtUp, checks: { nats: r.nats, etcd: r.etcd, identity_store: r.identity_store, view_caught_up: caughtUp }, view_lag: r.view_lag };
      reply.code(body.ready ? 200 : 503);
      return E.right(body);
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/status', access: 'audit.read', tags: ['audit'],
    summary: 'Leader, checkpoint, stream end, projection lag, regions, open conflicts and rejected events (jzse status)',
    request: { querystring: Type.Object({ latest_rejected: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 5 })) }, closed) },
    response: {
      200: Type.Object({
        stream: Type.String(),
        leader: Type.Union([Type.Object({ id: Type.String(), create_revision: Type.String() }), Type.Null()]),
        candidates: Type.Integer(),
        checkpoint: Type.Union([Sequence, Type.Null()]),
        stream_end: Sequence,
        lag: Type.Integer(),
        checkpoint_ahead: Type.Boolean(),
        files: Type.Integer(),
        regions: Type.Array(Type.Object({
          id: Type.String(), name: Type.String(), active: Type.Boolean(), state: Type.String(), sync_lag: Type.Integer(), pending: Type.Integer(), last_seen_at: Type.String(),
        })),
        conflicts: Type.Object({ total: Type.Integer(), open: Type.Integer(), open_ids: Type.Array(Type.String()) }),
        rejected: Type.Object({
          total: Type.Integer(),
          latest: Type.Array(Type.Object({ sequence: Sequence, type: Type.Union([Type.String(), Type.Null()]), subject: Type.String(), reason: Type.String() })),
        }),
        snapshots: Type.Array(Sequence),
      }),
    },
    handler: async ({ query }) => {
      const s = await status(audit, { latestRejected: query.latest_rejected ?? 5 });
      return E.right({
        stream: s.stream,
        leader: s.leader === null ? null : { id: s.leader.id, create_revision: s.leader.createRevision },
        candidates: s.candidates,
        checkpoint: s.checkpoint ?? null,
        stream_end: s.streamLastSeq,
        lag: s.lag,
        checkpoint_ahead: s.checkpointAhead,
        files: s.files,
        regions: s.regions.map((r) => ({ id: r.id, name: r.name, active: r.active, state: r.state, sync_lag: r.syncLag, pending: r.pending, last_seen_at: r.lastSeenAt })),
        conflicts: { total: s.conflicts.total, open: s.conflicts.open, open_ids: [...s.conflicts.openIds] },
        rejected: { total: s.rejected.total, latest: s.rejected.latest.map((r) => ({ sequence: r.seq, type: r.type, subject: r.subject, reason: r.reason })) },
        snapshots: [...s.snapshots],
      });
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/rejections', access: 'audit.read', tags: ['audit'],
    summary: 'The events the fold refused, with their rejection code, field and reason (jzse rejections)',
    request: {
      querystring: Type.Object({
        ...ReadQuery, ...PageQuery,
        region: Type.Optional(RegionId),
        code: Type.Optional(Type.Union(REJECTION_CODES.map((c) => Type.Literal(c)))),
        stored_after: Type.Optional(Instant),
        stored_before: Type.Optional(Instant),
      }, closed),
    },
    response: { 200: page(Rejection) },
    handler: async ({ query, url }, call, reply) => {
      const view = await viewAt(deps, call, query.min_sequence);
      if (E.isLeft(view)) return view;
      const keep = matchesRejection({
        ...(query.region === undefined ? {} : { region: query.region }), ...(query.code === undefined ? {} : { code: query.code }),
        ...(query.stored_after === undefined ? {} : { after: Date.parse(query.stored_after) }), ...(query.stored_before === undefined ? {} : { before: Date.parse(query.stored_before) }),
      });
      const p = await view.right.page('rejected', { after: cursorIn(query.cursor), limit: query.limit ?? 100, keep });
      return paged(reply, url, p.items.map(present.rejection), p.next, view.right.seq);
    },
  }),
];
