// What the REST API does as an HTTP service, on a coordinator whose log this test reads: every log
// line of a request carries its request id and none a token or an Authorization header; CORS only
// for the configured origins; request time by route template in the metrics.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startCoordinator, type Coordinator } from '../../src/coordinator.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { IdentityStore } from '../../src/store/identity.js';
import { restClient, startAuthStack } from '../support/rest.js';
import type { Stack } from '../support/stack.js';

const ORIGIN = 'https://console.example';

describe('the REST API as an HTTP service', () => {
  let stack: Stack;
  let store: IdentityStore;
  let c: Coordinator;
  let token = '';
  const lines: string[] = [];
  const metrics = createMetrics();
  let send: ReturnType<typeof restClient>;

  before(async () => {
    ({ stack, store, admin: { token } } = await startAuthStack());
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } }));
    const config = { ...stack.config, coordinator: { ...stack.config.coordinator, id: 'http' }, rest: { ...stack.config.rest, cors_origins: [ORIGIN] } };
    c = await startCoordinator(config, { natsUrl: stack.nats.url, etcd: [stack.etcd.endpoint] }, log, metrics, { identity: store });
    send = restClient(() => `http://127.0.0.1:${c.rest.port}`, () => token);
  });

  after(async () => {
    await c?.stop();
    await store?.close();
    await stack?.stop();
  });

  test('the port is logged; each request line carries the request id; no token, no Authorization header', async () => {
    assert.ok(lines.some((l) => l.includes('REST API listening') && l.includes(`"port":${c.rest.port}`)));
    const ok = await send('GET', '/api/v1/regions', { headers: { 'x-request-id': 'trace-ok-1' } });
    assert.equal(ok.status, 200);
    const refused = await send('GET', '/api/v1/regions', { token: `${token.slice(0, -4)}AAAA`, headers: { 'x-request-id': 'trace-refused-1' } });
    assert.equal(refused.status, 401);
    const bad = await send('PUT', '/api/v1/regions/eu-west', { body: { name: token }, headers: { 'x-request-id': 'trace-bad-1' } });
    assert.equal(bad.status, 400);
    for (const id of ['trace-ok-1', 'trace-refused-1', 'trace-bad-1']) {
      const mine = lines.filter((l) => l.includes(id));
      assert.ok(mine.length >= 2, `${id}: ${mine.length} log lines`);
      for (const l of mine) assert.equal((JSON.parse(l) as { request_id?: string }).request_id, id);
    }
    const secret = token.split('_')[2] ?? token;
    assert.deepEqual(lines.filter((l) => l.includes(secret) || /authorization/i.test(l)), [], 'a log line holds the token or the Authorization header');
  });

  test('HEAD (which fastify adds for every GET) is guarded like the GET', async () => {
    const anonymous = await send('HEAD', '/api/v1/principals', { token: null });
    assert.equal(anonymous.status, 401);
    assert.equal((await send('HEAD', '/api/v1/principals')).status, 200);
  });

  test('CORS: the configured origin is allowed, preflight included; another origin gets no CORS headers', async () => {
    const preflight = await fetch(`http://127.0.0.1:${c.rest.port}/api/v1/regions`, {
      method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.ok(preflight.status < 300, String(preflight.status));
    assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const allowed = await send('GET', '/api/v1/regions', { headers: { origin: ORIGIN } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(allowed.headers.get('access-control-expose-headers') ?? '', /etag/);
    const other = await send('GET', '/api/v1/regions', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('jzse_http_server_handling_seconds by route template and status, never the raw URL', async () => {
    assert.equal((await send('GET', '/api/v1/files/some-file-id')).status, 404);
    assert.equal((await send('GET', '/no/such/thing')).status, 404);
    const text = await metrics.registry.metrics();
    assert.match(text, /jzse_http_server_handling_seconds_count\{route="\/api\/v1\/files\/:file_id",status="404"\} 1/);
    assert.match(text, /jzse_http_server_handling_seconds_count\{route="unmatched",status="404"\} 1/);
    assert.doesNotMatch(text, /some-file-id|no\/such/);
  });
});
