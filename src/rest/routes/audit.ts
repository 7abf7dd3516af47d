// Audit over HTTP, as `jzse` does it (the same src/audit/ functions): the event log replayed with
// the CLI's filters as NDJSON, and rebuild, verify, diff and snapshots as jobs. Nothing here reads
// or writes files on the coordinator's host: view sources are live, etcd:, at: or snapshot: only.
import { Type } from '@sinclair/typebox';
import * as E from 'fp-ts/lib/Either.js';
import type { AuditContext } from '../../audit/context.js';
import { diffEntries, loadSource, parseSource } from '../../audit/diff.js';
import { parsePoint, type Point } from '../../audit/points.js';
import { rebuild, takeSnapshot } from '../../audit/rebuild.js';
import { REPLAY_TYPES, planReplay, replay, type ReplayFilter } from '../../audit/replay.js';
import { listSnapshots } from '../../audit/snapshots.js';
import { verifyLive } from '../../audit/verify.js';
import { apiError, type ApiError } from '../../api/errors.js';
import { audited } from '../auditErrors.js';
import type { Job, Jobs } from '../jobs.js';
import { defineRoute } from '../route.js';
import { FileId, Instant, PrincipalName, RegionId, Sequence, closed } from '../schemas.js';

const PointText = Type.String({ pattern: '^(\\d{1,16}|\\d{4}-\\d\\d-\\d\\dT[0-9:.]+(Z|[+-]\\d\\d:\\d\\d))$', description: 'a stream sequence, or an RFC 3339 store time' });
const Prefix = Type.String({ pattern: '^/[A-Za-z0-9._/-]{1,255}$', description: 'an etcd prefix of its own (not the live view, the election or the snapshots)' });
const Source = Type.String({ pattern: '^(live|etcd:/[A-Za-z0-9._/-]{1,255}|at:[0-9A-Za-z:.+-]{1,40}|snapshot:\\d{1,16})$', description: 'live, etcd:<prefix>, at:<sequence or time>, snapshot:<sequence>' });

const JobOut = Type.Object({ job: Type.Ref('Job') });
const JobParams = Type.Object({ job_id: Type.String({ format: 'uuid' }) }, closed);

const MAX_DIFFERENCES = 1000;

/** `at` as the CLI reads `--at` (a time must name its zone; a sequence beyond the stream is refused when the job runs). */
const pointOf = (at: string | undefined): E.Either<ApiError, Point | undefined> =>
  at === undefined ? E.right(undefined) : E.tryCatch(() => parsePoint(at, 'at'), (e) => apiError('INVALID_ARGUMENT', e instanceof Error ? e.message : String(e)));

const accepted = (reply: { header: (k: string, v: string) => unknown }, started: ReturnType<Jobs['start']>) =>
  E.map((job: Job) => {
    reply.header('location', `/api/v1/jobs/${job.id}`);
    return { job };
  })(started);

export const auditRoutes = (audit: AuditContext, jobs: Jobs) => [
  defineRoute({
    method: 'GET', url: '/api/v1/events', access: 'audit.read', tags: ['audit'],
    summary: 'The stored events, filtered as `jzse replay` filters them, streamed as NDJSON (one record a line)',
    request: {
      querystring: Type.Object({
        file_id: Type.Optional(FileId),
        path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'a path prefix' })),
        region: Type.Optional(RegionId),
        type: Type.Optional(Type.Array(Type.Union(REPLAY_TYPES.map((t) => Type.Literal(t))), { maxItems: 20 })),
        from_seq: Type.Optional(Sequence),
        to_seq: Type.Optional(Sequence),
        since: Type.Optional(Instant),
        until: Type.Optional(Instant),
        clock: Type.Optional(Type.Union([Type.Literal('stored'), Type.Literal('event')])),
        principal: Type.Optional(PrincipalName),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      }, closed),
    },
    response: {
      200: {
        description: 'application/x-ndjson: one ReplayRecord (seq, storedAt, subject, type, id, at, principal, files, path, valid, event) per line',
        content: { 'application/x-ndjson': { schema: Type.String() } },
      },
    },
    handler: async ({ query: q }, _call, reply) => {
      const f: ReplayFilter = {
        ...(q.file_id === undefined ? {} : { fileId: q.file_id }), ...(q.path === undefined ? {} : { pathPrefix: q.path }),
        ...(q.region === undefined ? {} : { region: q.region }), ...(q.type === undefined ? {} : { types: q.type }),
        ...(q.from_seq === undefined ? {} : { fromSeq: q.from_seq }), ...(q.to_seq === undefined ? {} : { toSeq: q.to_seq }),
        ...(q.since === undefined ? {} : { since: Date.parse(q.since) }), ...(q.until === undefined ? {} : { until: Date.parse(q.until) }),
        ...(q.clock === undefined ? {} : { clock: q.clock }), ...(q.principal === undefined ? {} : { principal: q.principal }),
      };
      const streams = await audit.nats();
      const plan = await audited(() => planReplay(streams, f), '(query)');
      if (E.isLeft(plan)) return plan;
      // Headers go out before the first record: a failure later ends the stream early (the log says why).
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-request-id': String(reply.request.id) });
      let left = q.limit ?? Number.MAX_SAFE_INTEGER;
      try {
        for await (const batch of replay(streams, f, plan.right)) {
          for (const r of batch.slice(0, left)) {
            if (!reply.raw.write(`${JSON.stringify(r)}\n`)) await new Promise((resolve) => reply.raw.once('drain', resolve));
          }
          left -= batch.length;
          if (left <= 0 || reply.raw.destroyed) break;
        }
      } catch (error) {
        reply.request.log.error({ err: error }, 'replay failed mid-stream');
      }
      reply.raw.end();
      return E.right(null);
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/snapshots', access: 'audit.read', tags: ['audit'],
    summary: 'The stored snapshots (the views rebuilds start from)',
    request: {},
    response: { 200: Type.Object({ items: Type.Array(Type.Object({ seq: Sequence, chunks: Type.Integer(), bytes: Type.Integer() })) }) },
    handler: async () => E.right({ items: (await listSnapshots(await audit.etcd(), audit.root)).map((i) => ({ seq: i.seq, chunks: i.chunks, bytes: i.bytes })) }),
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/jobs/rebuild', access: 'view.maintain', tags: ['jobs'],
    summary: 'Start a rebuild: the fold up to a sequence or store time, into an etcd prefix of its own (jzse rebuild --at --into)',
    request: { body: Type.Object({ at: Type.Optional(PointText), into: Type.Optional(Prefix), use_snapshots: Type.Optional(Type.Boolean()) }, closed) },
    response: { 202: JobOut },
    handler: (input, _call, reply) => {
      const { at, into, use_snapshots } = input.body;
      const point = pointOf(at);
      if (E.isLeft(point)) return Promise.resolve(point);
      const started = jobs.start('rebuild', 'at', ({ progress }) => rebuild(audit, {
        ...(point.right === undefined ? {} : { at: point.right }),
        target: { kind: 'etcd', ...(into === undefined ? {} : { prefix: into }) },
        useSnapshots: use_snapshots ?? true, onProgress: progress, batch: 1000,
      }));
      return Promise.resolve(accepted(reply, started));
    },
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/jobs/verify', access: 'audit.read', tags: ['jobs'],
    summary: 'Start a verification of the live view against the fold of the stream up to its checkpoint (jzse verify)',
    request: {},
    response: { 202: JobOut },
    handler: (_input, _call, reply) => Promise.resolve(accepted(reply, jobs.start('verify', '(request)', ({ progress }) =>
      verifyLive(audit, { onProgress: progress }).then((v) => ({ ...v, differences: v.differences.slice(0, MAX_DIFFERENCES) }))))),
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/jobs/diff', access: 'audit.read', tags: ['jobs'],
    summary: 'Start a record-by-record comparison of two views (jzse diff a b)',
    request: { body: Type.Object({ a: Source, b: Type.Optional(Source) }, closed) },
    response: { 202: JobOut },
    handler: (input, _call, reply) => Promise.resolve(accepted(reply, jobs.start('diff', 'a', async ({ progress }) => {
      const a = await loadSource(audit, parseSource(input.body.a, 'a'), 'a', { onProgress: progress });
      const b = await loadSource(audit, parseSource(input.body.b ?? 'live', 'b'), 'b', { onProgress: progress });
      const differences = diffEntries(a.entries, b.entries);
      return { equal: differences.length === 0, a: { label: a.label, seq: a.seq ?? null, digest: a.digest }, b: { label: b.label, seq: b.seq ?? null, digest: b.digest }, differences: differences.slice(0, MAX_DIFFERENCES), total_differences: differences.length };
    }))),
  }),

  defineRoute({
    method: 'POST', url: '/api/v1/jobs/snapshot', access: 'view.maintain', tags: ['jobs'],
    summary: 'Start storing the view at a point as a snapshot in etcd (jzse snapshot --at)',
    request: { body: Type.Object({ at: Type.Optional(PointText) }, closed) },
    response: { 202: JobOut },
    handler: (input, _call, reply) => {
      const point = pointOf(input.body.at);
      if (E.isLeft(point)) return Promise.resolve(point);
      return Promise.resolve(accepted(reply, jobs.start('snapshot', 'at', ({ progress }) => takeSnapshot(audit, { ...(point.right === undefined ? {} : { at: point.right }), onProgress: progress }))));
    },
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/jobs', access: 'audit.read', tags: ['jobs'],
    summary: "This instance's jobs, newest first",
    request: {},
    response: { 200: Type.Object({ items: Type.Array(Type.Ref('Job')) }) },
    handler: () => Promise.resolve(E.right({ items: jobs.list() })),
  }),

  defineRoute({
    method: 'GET', url: '/api/v1/jobs/:job_id', access: 'audit.read', tags: ['jobs'],
    summary: 'A job: its state, progress, and result or error',
    request: { params: JobParams },
    response: { 200: JobOut },
    handler: ({ params }) => Promise.resolve(E.map((job: unknown) => ({ job }))(jobs.get(params.job_id))),
  }),

  defineRoute({
    method: 'DELETE', url: '/api/v1/jobs/:job_id', access: 'view.maintain', tags: ['jobs'],
    summary: 'Cancel a running job: it stops at its next batch (a job that finished first stays succeeded)',
    request: { params: JobParams },
    response: { 200: JobOut },
    handler: ({ params }) => Promise.resolve(E.map((job: unknown) => ({ job }))(jobs.cancel(params.job_id))),
  }),
];
