// The REST API on real servers with tokens: the published OpenAPI document (3.1, valid, equal to the
// committed docs/openapi.json); every operation in it called with a valid and an invalid request,
// every answer checked against its schema; for every operation no token → 401 with WWW-Authenticate,
// each role that must not call it → 403, a region token for another region → 403, and nothing
// appended by any refusal; REST writes read over gRPC on the other instance and the other way round.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { lastSequence } from '../../src/nats/read.js';
import { waitFor } from '../../src/util/waitFor.js';
import { call as grpcCall, connectClients, type Clients } from '../support/grpcClient.js';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { responseChecker, templateOf, type OpenApi } from '../support/openapi.js';
import { restBase, restClient, startRestStack, type Reply, type RestStack, type RoleTokens } from '../support/rest.js';

type Role = keyof RoleTokens;
const ALL: Role[] = ['admin', 'operator', 'auditor', 'region'];
const READERS: Role[] = ['admin', 'operator', 'auditor'];
const MANAGERS: Role[] = ['admin', 'operator'];
const WRITERS: Role[] = ['admin', 'region'];
const ADMIN: Role[] = ['admin'];

type Req = { readonly method: string; readonly path: string; readonly body?: unknown; readonly headers?: Record<string, string>; readonly as?: Role };
type Case = {
  readonly op: string;
  /** Written from docs/security.md's roles, not from the code. */
  readonly may: readonly Role[] | 'open';
  readonly valid: Req & { readonly status: number | readonly number[] };
  readonly invalid: Req & { readonly status: number };
  /** The same request naming another region than the eu-west token's. */
  readonly otherRegion?: Req;
};

const at = '2026-11-25T10:00:00Z';
const regionBody = (name: string) => ({ name, endpoint: `${name}:7000`, location: { latitude: 50.1, longitude: 8.6, name: 'fra-1' }, capacity_bytes: 1_000_000 });
const change = (region: string, clock: Record<string, number>, path = '/projects/atlas/report.pdf') => ({ region_id: region, path, size: 10, modified_at: at, vector_clock: clock });

/** Filled in as the cases run: ids the server made. */
const made: { tokenId?: string; rotatedId?: string; jobId?: string } = {};

const CASES = (): Case[] => [
  { op: 'GET /healthz', may: 'open', valid: { method: 'GET', path: '/healthz', status: 200 }, invalid: { method: 'GET', path: '/healthz?verbose=1', status: 400 } },
  { op: 'GET /readyz', may: 'open', valid: { method: 'GET', path: '/readyz', status: 200 }, invalid: { method: 'GET', path: '/readyz?x=1', status: 400 } },
  {
    op: 'PUT /api/v1/regions/{region_id}', may: MANAGERS,
    valid: { method: 'PUT', path: '/api/v1/regions/ap-south', body: regionBody('Mumbai'), status: 200 },
    invalid: { method: 'PUT', path: '/api/v1/regions/ap-south', body: { ...regionBody('Mumbai'), name: '' }, status: 400 },
  },
  {
    op: 'GET /api/v1/regions', may: ALL,
    valid: { method: 'GET', path: '/api/v1/regions?limit=2', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/regions?limit=0', status: 400 },
  },
  {
    op: 'GET /api/v1/regions/{region_id}', may: ALL,
    valid: { method: 'GET', path: '/api/v1/regions/eu-west', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/regions/no-such-region', status: 404 },
  },
  {
    op: 'POST /api/v1/regions/{region_id}/heartbeats', may: WRITERS,
    valid: { method: 'POST', path: '/api/v1/regions/eu-west/heartbeats', as: 'region', body: { state: 'healthy', sync_lag: 0, storage_used: 10, load_level: 0.5 }, status: 200 },
    invalid: { method: 'POST', path: '/api/v1/regions/eu-west/heartbeats', as: 'region', body: { state: 'sleepy', sync_lag: 0, storage_used: 10, load_level: 0.5 }, status: 400 },
    otherRegion: { method: 'POST', path: '/api/v1/regions/us-east/heartbeats', body: { state: 'healthy', sync_lag: 0, storage_used: 10, load_level: 0.5 } },
  },
  {
    op: 'POST /api/v1/files', may: WRITERS,
    valid: { method: 'POST', path: '/api/v1/files', as: 'region', body: { file_id: 'atlas-notes', ...change('eu-west', { 'eu-west': 1 }, '/projects/atlas/notes.md') }, status: 201 },
    invalid: { method: 'POST', path: '/api/v1/files', as: 'region', body: { file_id: 'atlas-report', ...change('eu-west', { 'eu-west': 9 }) }, status: 409 },
    otherRegion: { method: 'POST', path: '/api/v1/files', body: { file_id: 'us-file', ...change('us-east', { 'us-east': 1 }) } },
  },
  {
    op: 'PUT /api/v1/files/{file_id}', may: WRITERS,
    valid: { method: 'PUT', path: '/api/v1/files/atlas-notes', as: 'region', body: change('eu-west', { 'eu-west': 2 }, '/projects/atlas/notes.md'), status: 200 },
    invalid: { method: 'PUT', path: '/api/v1/files/atlas-notes', as: 'region', body: change('eu-west', { 'eu-west': 1 }, '/projects/atlas/notes.md'), status: 409 },
    otherRegion: { method: 'PUT', path: '/api/v1/files/atlas-notes', body: change('us-east', { 'eu-west': 2, 'us-east': 1 }, '/projects/atlas/notes.md') },
  },
  {
    op: 'GET /api/v1/files/{file_id}', may: ALL,
    valid: { method: 'GET', path: '/api/v1/files/atlas-report', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/files/no-such-file', status: 404 },
  },
  {
    op: 'POST /api/v1/files/batch-get', may: ALL,
    valid: { method: 'POST', path: '/api/v1/files/batch-get', body: { file_ids: ['atlas-report', 'nope'] }, status: 200 },
    invalid: { method: 'POST', path: '/api/v1/files/batch-get', body: { file_ids: [] }, status: 400 },
  },
  {
    op: 'GET /api/v1/files/{file_id}/locations', may: ALL,
    valid: { method: 'GET', path: '/api/v1/files/atlas-report/locations', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/files/bad%20id/locations', status: 400 },
  },
  {
    op: 'GET /api/v1/files/{file_id}/history', may: READERS,
    valid: { method: 'GET', path: '/api/v1/files/atlas-report/history', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/files/never-named/history', status: 404 },
  },
  {
    op: 'GET /api/v1/regions/{region_id}/pending', may: ALL,
    valid: { method: 'GET', path: '/api/v1/regions/us-east/pending?limit=10', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/regions/us-east/pending?since=-1', status: 400 },
    otherRegion: { method: 'GET', path: '/api/v1/regions/us-east/pending' },
  },
  {
    op: 'GET /api/v1/conflicts', may: ALL,
    valid: { method: 'GET', path: '/api/v1/conflicts?state=open&region=us-east&path=/conflicted/', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/conflicts?state=maybe', status: 400 },
  },
  {
    op: 'GET /api/v1/conflicts/{conflict_id}', may: ALL,
    valid: { method: 'GET', path: '/api/v1/conflicts/clash-us', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/conflicts/no-such-conflict', status: 404 },
  },
  {
    op: 'POST /api/v1/conflicts/{conflict_id}/resolution', may: MANAGERS,
    valid: { method: 'POST', path: '/api/v1/conflicts/clash-us/resolution', body: { keep: 'remote' }, status: 200 },
    invalid: { method: 'POST', path: '/api/v1/conflicts/clash-us/resolution', body: { keep: 'both' }, status: 400 },
  },
  {
    op: 'GET /api/v1/policies', may: ALL,
    valid: { method: 'GET', path: '/api/v1/policies', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/policies?limit=-1', status: 400 },
  },
  {
    op: 'PUT /api/v1/policies/{pattern}', may: MANAGERS,
    valid: { method: 'PUT', path: `/api/v1/policies/${encodeURIComponent('/projects/atlas/')}`, body: { sync: 'eager' }, status: 200 },
    invalid: { method: 'PUT', path: `/api/v1/policies/${encodeURIComponent('/projects/atlas/')}`, body: { sync: 'sometimes' }, status: 400 },
  },
  {
    op: 'GET /api/v1/policies/{pattern}', may: ALL,
    valid: { method: 'GET', path: `/api/v1/policies/${encodeURIComponent('/projects/atlas/')}`, status: 200 },
    invalid: { method: 'GET', path: `/api/v1/policies/${encodeURIComponent('/nowhere/')}`, status: 404 },
  },
  {
    op: 'GET /api/v1/effective-policy', may: ALL,
    valid: { method: 'GET', path: '/api/v1/effective-policy?path=/projects/atlas/report.pdf', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/effective-policy', status: 400 },
  },
  {
    op: 'GET /api/v1/status', may: READERS,
    valid: { method: 'GET', path: '/api/v1/status', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/status?latest_rejected=1000', status: 400 },
  },
  {
    op: 'GET /api/v1/rejections', may: READERS,
    valid: { method: 'GET', path: '/api/v1/rejections?code=stale', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/rejections?code=grumpy', status: 400 },
  },
  {
    op: 'GET /api/v1/whoami', may: ALL,
    valid: { method: 'GET', path: '/api/v1/whoami', as: 'region', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/whoami', headers: { authorization: 'Bearer jzse_not-a-token' }, status: 401 },
  },
  {
    op: 'GET /api/v1/roles', may: ADMIN,
    valid: { method: 'GET', path: '/api/v1/roles', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/roles?all=1', status: 400 },
  },
  {
    op: 'POST /api/v1/principals', may: ADMIN,
    valid: { method: 'POST', path: '/api/v1/principals', body: { name: 'made-by-rest', kind: 'service', grants: [{ role: 'auditor' }] }, status: 201 },
    invalid: { method: 'POST', path: '/api/v1/principals', body: { name: 'has space', kind: 'service', grants: [] }, status: 400 },
  },
  {
    op: 'GET /api/v1/principals', may: ADMIN,
    valid: { method: 'GET', path: '/api/v1/principals', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/principals?page=2', status: 400 },
  },
  {
    op: 'GET /api/v1/principals/{name}', may: ADMIN,
    valid: { method: 'GET', path: '/api/v1/principals/made-by-rest', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/principals/nobody', status: 404 },
  },
  {
    op: 'PUT /api/v1/principals/{name}/grants', may: ADMIN,
    valid: { method: 'PUT', path: '/api/v1/principals/made-by-rest/grants', body: { grants: [{ role: 'region', region: 'eu-west' }] }, status: 200 },
    invalid: { method: 'PUT', path: '/api/v1/principals/made-by-rest/grants', body: { grants: [{ role: 'god' }] }, status: 400 },
  },
  {
    op: 'POST /api/v1/tokens', may: ADMIN,
    valid: { method: 'POST', path: '/api/v1/tokens', body: { principal: 'made-by-rest', name: 'ci' }, status: 201 },
    invalid: { method: 'POST', path: '/api/v1/tokens', body: { principal: 'nobody', name: 'ci' }, status: 404 },
  },
  {
    op: 'GET /api/v1/tokens', may: ADMIN,
    valid: { method: 'GET', path: '/api/v1/tokens?principal=made-by-rest', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/tokens?principal=bad%20name', status: 400 },
  },
  {
    op: 'POST /api/v1/tokens/{id}/rotate', may: ADMIN,
    valid: { method: 'POST', path: '/api/v1/tokens/${tokenId}/rotate', status: 201 },
    invalid: { method: 'POST', path: '/api/v1/tokens/aaaaaaaaaaaaaaaa/rotate', status: 404 },
  },
  {
    op: 'DELETE /api/v1/tokens/{id}', may: ADMIN,
    valid: { method: 'DELETE', path: '/api/v1/tokens/${rotatedId}', status: 200 },
    invalid: { method: 'DELETE', path: '/api/v1/tokens/short', status: 400 },
  },
  {
    op: 'POST /api/v1/principals/{name}/disable', may: ADMIN,
    valid: { method: 'POST', path: '/api/v1/principals/made-by-rest/disable', status: 200 },
    invalid: { method: 'POST', path: '/api/v1/principals/nobody/disable', status: 404 },
  },
  {
    op: 'GET /api/v1/events', may: READERS,
    valid: { method: 'GET', path: '/api/v1/events?file_id=atlas-report&type=file.registered&type=file.updated', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/events?from_seq=-1', status: 400 },
  },
  {
    op: 'GET /api/v1/snapshots', may: READERS,
    valid: { method: 'GET', path: '/api/v1/snapshots', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/snapshots?limit=5', status: 400 },
  },
  {
    op: 'POST /api/v1/jobs/rebuild', may: MANAGERS,
    valid: { method: 'POST', path: '/api/v1/jobs/rebuild', body: { at: '3', into: '/rest-test/rebuilds/at-3' }, status: 202 },
    invalid: { method: 'POST', path: '/api/v1/jobs/rebuild', body: { at: 'yesterday' }, status: 400 },
  },
  {
    op: 'POST /api/v1/jobs/verify', may: READERS,
    valid: { method: 'POST', path: '/api/v1/jobs/verify', status: 202 },
    invalid: { method: 'POST', path: '/api/v1/jobs/verify?strict=yes', status: 400 },
  },
  {
    op: 'POST /api/v1/jobs/diff', may: READERS,
    valid: { method: 'POST', path: '/api/v1/jobs/diff', body: { a: 'at:3' }, status: 202 },
    invalid: { method: 'POST', path: '/api/v1/jobs/diff', body: { a: 'file:/etc/passwd' }, status: 400 },
  },
  {
    op: 'POST /api/v1/jobs/snapshot', may: MANAGERS,
    valid: { method: 'POST', path: '/api/v1/jobs/snapshot', body: {}, status: 202 },
    invalid: { method: 'POST', path: '/api/v1/jobs/snapshot', body: { at: 'x' }, status: 400 },
  },
  {
    op: 'GET /api/v1/jobs', may: READERS,
    valid: { method: 'GET', path: '/api/v1/jobs', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/jobs?state=running', status: 400 },
  },
  {
    op: 'GET /api/v1/jobs/{job_id}', may: READERS,
    valid: { method: 'GET', path: '/api/v1/jobs/${jobId}', status: 200 },
    invalid: { method: 'GET', path: '/api/v1/jobs/00000000-0000-4000-8000-000000000000', status: 404 },
  },
  {
    // The job may still run (200, cancel requested) or have finished (409): test/integration/rest.jobs.test.ts cancels a long one.
    op: 'DELETE /api/v1/jobs/{job_id}', may: MANAGERS,
    valid: { method: 'DELETE', path: '/api/v1/jobs/${jobId}', status: [200, 409] },
    invalid: { method: 'DELETE', path: '/api/v1/jobs/not-a-uuid', status: 400 },
  },
  {
    op: 'DELETE /api/v1/regions/{region_id}', may: MANAGERS,
    valid: { method: 'DELETE', path: '/api/v1/regions/ap-south?reason=closed', status: 200 },
    invalid: { method: 'DELETE', path: '/api/v1/regions/never-registered', status: 404 },
  },
];

const fill = (path: string): string =>
  path.replace('${tokenId}', made.tokenId ?? 'unset').replace('${rotatedId}', made.rotatedId ?? 'unset').replace('${jobId}', made.jobId ?? 'unset');

describe('the REST API', () => {
  let s: RestStack;
  let doc: OpenApi;
  let check: ReturnType<typeof responseChecker>;
  let grpcB: Clients;
  const rest = (target: () => string) => restClient(target, () => undefined);
  let onA: ReturnType<typeof rest>;
  let onB: ReturnType<typeof rest>;
  const seen = new Set<string>();

  const send = async (r: Req, token: string | null, client = onA): Promise<Reply> => {
    const reply = await client(r.method, fill(r.path), { token, ...(r.body === undefined ? {} : { body: r.body }), ...(r.headers === undefined ? {} : { headers: r.headers }) });
    const template = templateOf(doc, r.method, fill(r.path));
    if (template !== undefined) {
      seen.add(`${r.method} ${template}`);
      const ndjson = /^application\/x-ndjson/.test(reply.headers.get('content-type') ?? '');
      if (ndjson) for (const line of reply.text.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `${r.path}: not NDJSON`);
      const why = check(r.method, template, reply.status, reply.headers.get('content-type'), ndjson ? reply.text : reply.json);
      assert.equal(why, undefined, `${r.method} ${r.path}: ${reply.text.slice(0, 300)}`);
    }
    assert.ok(reply.headers.get('x-request-id'), `${r.method} ${r.path}: no X-Request-Id`);
    if (reply.status >= 400) {
      assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, `${r.method} ${r.path}: ${reply.status} is not a problem document`);
      const p = reply.json as { status: number; detail: string; instance: string };
      assert.equal(p.status, reply.status);
      assert.equal(p.instance, reply.headers.get('x-request-id'));
    }
    return reply;
  };
  const tokenOf = (role: Role): string => s.tokens[role];
  const streamEnd = () => lastSequence(s.stack.client.jsm, s.stack.config.nats.stream);
  const jobCount = async () => ((await onA('GET', '/api/v1/jobs', { token: s.tokens.admin })).json as { items: unknown[] }).items.length;

  before(async () => {
    s = await startRestStack();
    onA = rest(() => restBase(s.a));
    onB = rest(() => restBase(s.b));
    const served = await onA('GET', '/api/v1/openapi.json');
    assert.equal(served.status, 200);
    doc = served.json as OpenApi;
    check = responseChecker(doc);
    grpcB = connectClients(s.b.api.port, s.tokens.admin);
    // The state the cases build on: two regions, a file, a manual-strategy conflict.
    const admin = (m: string, p: string, body?: unknown, token = s.tokens.admin, headers: Record<string, string> = {}) =>
      send({ method: m, path: p, body, headers }, token).then((r) => { assert.ok(r.status < 300, `${m} ${p}: ${r.text}`); return r; });
    await admin('PUT', '/api/v1/regions/eu-west', regionBody('Frankfurt'));
    await admin('PUT', '/api/v1/regions/us-east', regionBody('Virginia'));
    await admin('PUT', `/api/v1/policies/${encodeURIComponent('/conflicted/')}`, { conflict: 'manual' });
    await admin('POST', '/api/v1/files', { file_id: 'atlas-report', ...change('eu-west', { 'eu-west': 1 }) }, s.tokens.region);
    await admin('POST', '/api/v1/files', { file_id: 'clash', ...change('eu-west', { 'eu-west': 1 }, '/conflicted/a') }, s.tokens.region);
    await admin('PUT', '/api/v1/files/clash', change('eu-west', { 'eu-west': 2 }, '/conflicted/a'), s.tokens.region);
    const clash = await admin('PUT', '/api/v1/files/clash', change('us-east', { 'eu-west': 1, 'us-east': 1 }, '/conflicted/b'), s.tokens.other, { 'idempotency-key': 'clash-us' });
    assert.equal((clash.json as { outcome: string }).outcome, 'CONFLICT');
  });

  after(async () => {
    grpcB?.close();
    await s?.stop();
  });

  test('the OpenAPI document is 3.1, valid, and the committed docs/openapi.json', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
    assert.equal(validator.version, '3.1');
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (process.env['JZSE_UPDATE_OPENAPI'] === '1') writeFileSync('docs/openapi.json', text);
    assert.equal(readFileSync('docs/openapi.json', 'utf8'), text, 'docs/openapi.json differs from the served document: rerun this test with JZSE_UPDATE_OPENAPI=1 and commit it');
    const table = tableUnder(readDoc('docs/rest.md'), 'docs/rest.md', '## Routes', ['route', 'permission', 'what']);
    const documented = table.rows.map((r) => `${codeSpans(r[0] ?? '')[0]} ${codeSpans(r[1] ?? '')[0] ?? r[1]}`).sort();
    const served = Object.entries(doc.paths).flatMap(([p, ms]) => Object.entries(ms).map(([m, op]) => `${m.toUpperCase()} ${p} ${(op as { 'x-jzse-permission'?: string })['x-jzse-permission']}`)).sort();
    assert.deepEqual(documented, served, 'docs/rest.md: the routes table against the served document');
    const ui = await onA('GET', '/api/v1/docs/');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger/i);
  });

  test('every operation: a valid and an invalid request, answers matching their schemas', async () => {
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    assert.deepEqual(CASES().map((c) => c.op).sort(), ops, 'a case per operation of the document, and no other');
    for (const c of CASES()) {
      const token = c.valid.as === undefined ? s.tokens.admin : tokenOf(c.valid.as);
      const ok = await send(c.valid, token);
      assert.ok([c.valid.status].flat().includes(ok.status), `${c.op} (valid): ${ok.status} ${ok.text.slice(0, 400)}`);
      if (c.op === 'POST /api/v1/tokens') made.tokenId = (ok.json as { info: { id: string } }).info.id;
      if (c.op === 'POST /api/v1/tokens/{id}/rotate') made.rotatedId = (ok.json as { info: { id: string } }).info.id;
      if (c.op === 'POST /api/v1/jobs/rebuild') made.jobId = (ok.json as { job: { id: string } }).job.id;
      if (ok.status === 202) {
        const id = (ok.json as { job: { id: string } }).job.id;
        const done = await waitFor(async () => {
          const j = (await send({ method: 'GET', path: `/api/v1/jobs/${id}` }, s.tokens.auditor)).json as { job: { state: string; error: unknown } };
          return j.job.state === 'running' ? undefined : j.job;
        }, { timeoutMs: 60_000, what: `job ${id} of ${c.op} to finish` });
        assert.equal(done.state, 'succeeded', `${c.op}: ${JSON.stringify(done.error)}`);
      }
      const itoken = c.invalid.headers?.['authorization'] !== undefined ? null : c.invalid.as === undefined ? s.tokens.admin : tokenOf(c.invalid.as);
      const bad = await send(c.invalid, itoken);
      assert.equal(bad.status, c.invalid.status, `${c.op} (invalid): ${bad.text.slice(0, 400)}`);
      assert.ok((bad.json as { detail: string }).detail.length > 0);
    }
  });

  test('every operation: no token → 401 with WWW-Authenticate; a role without it → 403; another region → 403; nothing appended', async () => {
    for (const c of CASES()) {
      if (c.may === 'open') {
        const r = await send(c.valid, null);
        assert.equal(r.status, 200, `${c.op} is open`);
        continue;
      }
      const before = await streamEnd();
      const jobs = await jobCount();
      const anonymous = await send(c.valid, null);
      assert.equal(anonymous.status, 401, `${c.op} without a token: ${anonymous.text}`);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
      const revoked = await send(c.valid, 'jzse_aaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(revoked.status, 401);
      assert.match(revoked.headers.get('www-authenticate') ?? '', /invalid_token/);
      for (const role of ALL.filter((r) => !(c.may as readonly Role[]).includes(r))) {
        const refused = await send(c.valid, tokenOf(role));
        assert.equal(refused.status, 403, `${c.op} as ${role}: ${refused.text}`);
      }
      if (c.otherRegion !== undefined) {
        const refused = await send(c.otherRegion, s.tokens.region);
        assert.equal(refused.status, 403, `${c.op} for another region: ${refused.text}`);
        assert.match((refused.json as { detail: string }).detail, /acts for region eu-west only, not for us-east/);
      }
      assert.equal(await streamEnd(), before, `${c.op}: a refused request appended an event`);
      assert.equal(await jobCount(), jobs, `${c.op}: a refused request started a job`);
    }
  });

  test('a REST write is read over gRPC on the other instance, and a gRPC write over REST, by sequence', async () => {
    const body = { file_id: 'cross-1', ...change('eu-west', { 'eu-west': 1 }, '/cross/1') };
    const w = await send({ method: 'POST', path: '/api/v1/files?wait=false', body }, s.tokens.region);
    assert.equal(w.status, 201);
    const seq = (w.json as { write: { sequence: number } }).write.sequence;
    const got = await grpcCall<{ file: { metadata: { path: string } } }>(grpcB.MetadataService, 'Get', { file_id: 'cross-1', read: { min_sequence: String(seq) } });
    assert.ok(got.ok, got.error?.message);
    assert.equal(got.value?.file.metadata.path, '/cross/1');

    const ts = { seconds: String(Date.parse(at) / 1000), nanos: 0 };
    const g = await grpcCall<{ write: { sequence: string } }>(grpcB.MetadataService, 'Update', {
      region_id: 'eu-west', metadata: { file_id: 'cross-1', path: '/cross/1b', size: '11', checksum: '', modified_at: ts, vector_clock: { 'eu-west': '2' }, deleted: false, attributes: {} },
    });
    assert.ok(g.ok, g.error?.message);
    const read = await send({ method: 'GET', path: `/api/v1/files/cross-1?min_sequence=${g.value?.write.sequence}` }, s.tokens.auditor, onA);
    assert.equal(read.status, 200);
    assert.equal((read.json as { file: { metadata: { path: string } } }).file.metadata.path, '/cross/1b');
    const onOther = await send({ method: 'GET', path: `/api/v1/files/cross-1?min_sequence=${g.value?.write.sequence}` }, s.tokens.auditor, onB);
    assert.equal(onOther.headers.get('etag'), read.headers.get('etag'), 'the same version has the same ETag on every instance');
  });

  test('If-Match: a lost update is refused with 412 and nothing appended; the right ETag applies', async () => {
    const first = await send({ method: 'GET', path: '/api/v1/files/atlas-report' }, s.tokens.region);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const v2 = await send({ method: 'PUT', path: '/api/v1/files/atlas-report', headers: { 'if-match': etag }, body: change('eu-west', { 'eu-west': 2 }) }, s.tokens.region);
    assert.equal(v2.status, 200, v2.text);
    const before = await streamEnd();
    const lost = await send({ method: 'PUT', path: '/api/v1/files/atlas-report', headers: { 'if-match': etag }, body: change('eu-west', { 'eu-west': 3 }) }, s.tokens.region);
    assert.equal(lost.status, 412, lost.text);
    assert.equal((lost.json as { field: string }).field, 'If-Match');
    assert.equal(await streamEnd(), before);
    const policy = await send({ method: 'GET', path: `/api/v1/policies/${encodeURIComponent('/conflicted/')}` }, s.tokens.operator);
    const stale = await send({ method: 'PUT', path: `/api/v1/policies/${encodeURIComponent('/conflicted/')}`, headers: { 'if-match': '"not-it"' }, body: { conflict: 'fork' } }, s.tokens.operator);
    assert.equal(stale.status, 412);
    const fresh = await send({ method: 'PUT', path: `/api/v1/policies/${encodeURIComponent('/conflicted/')}`, headers: { 'if-match': policy.headers.get('etag') ?? '' }, body: { conflict: 'fork' } }, s.tokens.operator);
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('pagination follows next links; Idempotency-Key stores a write once', async () => {
    const items: string[] = [];
    let next: string | null = '/api/v1/regions?limit=1';
    for (let i = 0; next !== null && i < 10; i++) {
      const page: Reply = await send({ method: 'GET', path: next }, s.tokens.auditor);
      assert.equal(page.status, 200);
      const body = page.json as { items: Array<{ id: string }>; next: string | null };
      items.push(...body.items.map((r) => r.id));
      next = body.next;
    }
    assert.deepEqual(items, ['ap-south', 'eu-west', 'us-east']);
    const hb = { method: 'POST', path: '/api/v1/regions/eu-west/heartbeats', headers: { 'idempotency-key': 'hb-once' }, body: { state: 'healthy', sync_lag: 1, storage_used: 1, load_level: 0.1 } };
    const one = await send(hb, s.tokens.region);
    const two = await send(hb, s.tokens.region);
    assert.equal((two.json as { write: { sequence: number; duplicate: boolean } }).write.sequence, (one.json as { write: { sequence: number } }).write.sequence);
    assert.equal((two.json as { write: { duplicate: boolean } }).write.duplicate, true);
    const tagged = await onA('GET', '/healthz', { headers: { 'x-request-id': 'ops-1234' } });
    assert.equal(tagged.headers.get('x-request-id'), 'ops-1234');
    const untrusted = await onA('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.notEqual(untrusted.headers.get('x-request-id'), 'bad id with spaces');
  });
});
