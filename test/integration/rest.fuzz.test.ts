// Hostile input against a real REST server: 10,000 generated requests that are each wrong by
// construction (oversized or malformed bodies, wrong content types, deep nesting, unicode tricks and
// injection strings in ids and paths, path traversal, absurd numbers and page sizes, bad tokens).
// Every answer must be a 4xx problem document, never a 5xx; the server keeps serving, and nothing
// reaches the stream or the view.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { lastSequence } from '../../src/nats/read.js';
import { componentChecker, type OpenApi } from '../support/openapi.js';
import { asObject, readEtcdView } from '../support/stack.js';
import { restBase, restClient, startRestStack, type RestStack } from '../support/rest.js';

const LIMIT = 16_384;
const RUNS = Number(process.env['JZSE_REST_FUZZ_RUNS'] ?? 10_000);

/** Each holds at least one character no id, region or principal pattern allows. */
const HOSTILE = [
  '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', '....//....//', '/absolute', 'a/../b',
  "' OR 1=1 --", '"; DROP TABLE files; --', '<script>alert(1)</script>', '${jndi:ldap://x/a}', '{{7*7}}', '$(rm -rf /)', '`id`',
  'e\u0301', '\u202Eevil', 'zero\u200Bwidth', 'ｆｕｌｌｗｉｄｔｈ', '\uFEFFbom', 'emoji😀', 'nul\u0000byte', 'tab\there', 'new\nline', 'back\\slash',
  'ünïcödé', 'İstanbul', 'x'.repeat(129), ' ', '%00', '%zz', 'a b',
];
const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...HOSTILE), fc.string({ maxLength: 20 })).map(([a, h, b]) => `${a}${h}${b}`),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => /[^A-Za-z0-9._:-]/.test(s)),
);
/** Into a path segment: mostly encoded, sometimes raw (traversal, bad escapes). */
const segment = fc.tuple(hostile, fc.boolean()).map(([h, raw]) => (raw ? h.replace(/[#?]/g, '') : encodeURIComponent(h)));

// Not "" or "0x10": a query string coerces them to 0 and 16, which are fine numbers.
const ABSURD = ['-1', '1e400', '-1e400', '99999999999999999999', '1.5', 'NaN', 'Infinity', 'abc', '9007199254740993', '-0.5', '1e21', '1,2', '[1]'];
const absurd = fc.constantFrom(...ABSURD);
const absurdJson = fc.constantFrom('-1', '1e400', '-1e400', '99999999999999999999', '1.5', '"12"', 'null', 'true', '[]', '{}', '-9007199254740993');

type Req = { method: string; path: string; headers: Record<string, string>; body?: string };
const json = { 'content-type': 'application/json' };

// Valid bodies whose one field is then made absurd: the rest of the request is well formed.
const BODIES: Array<{ method: string; path: string; body: Record<string, unknown>; numeric: string[]; ids: string[] }> = [
  { method: 'POST', path: '/api/v1/files', body: { file_id: 'fz', region_id: 'eu-west', path: '/fz', size: 1, modified_at: '2026-11-25T10:00:00Z', vector_clock: { 'eu-west': 1 } }, numeric: ['size'], ids: ['file_id', 'region_id'] },
  { method: 'PUT', path: '/api/v1/files/seed', body: { region_id: 'eu-west', path: '/seed', size: 1, modified_at: '2026-11-25T10:00:00Z', vector_clock: { 'eu-west': 5 } }, numeric: ['size'], ids: ['region_id'] },
  { method: 'PUT', path: '/api/v1/regions/fz-region', body: { name: 'n', endpoint: 'e:1', location: { latitude: 1, longitude: 2 }, capacity_bytes: 1 }, numeric: ['capacity_bytes'], ids: [] },
  { method: 'POST', path: '/api/v1/regions/eu-west/heartbeats', body: { state: 'healthy', sync_lag: 0, storage_used: 0, load_level: 0.5 }, numeric: ['sync_lag', 'storage_used', 'load_level'], ids: [] },
  { method: 'POST', path: '/api/v1/files/batch-get', body: { file_ids: ['seed'] }, numeric: [], ids: [] },
  { method: 'PUT', path: '/api/v1/policies/%2Ffz%2F', body: { sync: 'eager' }, numeric: [], ids: [] },
  { method: 'POST', path: '/api/v1/principals', body: { name: 'fz', kind: 'person', grants: [] }, numeric: [], ids: ['name'] },
  { method: 'POST', path: '/api/v1/tokens', body: { principal: 'admin', name: 'fz' }, numeric: [], ids: ['principal'] },
  { method: 'POST', path: '/api/v1/conflicts/none/resolution', body: { keep: 'local' }, numeric: [], ids: [] },
];
const writeRoute = fc.constantFrom(...BODIES);

const corrupted = fc.oneof(
  // One numeric field absurd (the JSON text itself, so 1e400 and 2^64 arrive as written).
  fc.tuple(writeRoute.filter((r) => r.numeric.length > 0), fc.nat(), absurdJson).map(([r, i, v]) => {
    const field = r.numeric[i % r.numeric.length] ?? 'size';
    const text = JSON.stringify({ ...r.body, [field]: '__ABSURD__' }).replace('"__ABSURD__"', v);
    return { method: r.method, path: r.path, headers: json, body: text };
  }),
  // One id field hostile.
  fc.tuple(writeRoute.filter((r) => r.ids.length > 0), fc.nat(), hostile).map(([r, i, h]) => ({
    method: r.method, path: r.path, headers: json, body: JSON.stringify({ ...r.body, [r.ids[i % r.ids.length] ?? 'file_id']: h }),
  })),
  // An unknown field, with a hostile name.
  fc.tuple(writeRoute, hostile).map(([r, h]) => ({ method: r.method, path: r.path, headers: json, body: JSON.stringify({ ...r.body, [`x-${h}`]: 1 }) })),
  // Not an object at all.
  fc.tuple(writeRoute, fc.constantFrom('[]', 'null', '"text"', '42', 'true', '[{}]')).map(([r, b]) => ({ method: r.method, path: r.path, headers: json, body: b })),
  // Prototype poisoning.
  writeRoute.map((r) => ({ method: r.method, path: r.path, headers: json, body: JSON.stringify(r.body).replace(/^\{/, '{"__proto__":{"admin":true},') })),
);

const malformed = fc.tuple(writeRoute, fc.oneof(
  fc.constantFrom('{', '{"a":', "{'a':1}", '{"a":1,}', '{a:1}', '[1,2', '{"a":NaN}', '{"a":undefined}', '\u0000', '{"a":"\\x"}', '{"a":"\\ud800"}', '{"a":1}{"b":2}', '//x\n{}'),
  fc.json().map((j) => `${j}}`),
  fc.string({ maxLength: 40 }).map((s) => `{${s}`),
)).map(([r, b]) => ({ method: r.method, path: r.path, headers: json, body: b }));

const deep = fc.tuple(writeRoute, fc.integer({ min: 33, max: 3000 }), fc.constantFrom('[', '{"a":')).map(([r, n, open]) => {
  const close = open === '[' ? ']' : '}';
  return { method: r.method, path: r.path, headers: json, body: JSON.stringify({ ...r.body, nest: '__N__' }).replace('"__N__"', `${open.repeat(n)}1${close.repeat(n)}`) };
});

const oversized = fc.tuple(writeRoute, fc.integer({ min: LIMIT + 1, max: LIMIT * 4 })).map(([r, n]) => ({
  method: r.method, path: r.path, headers: json, body: JSON.stringify({ ...r.body, pad: 'x'.repeat(n) }),
}));

const wrongType = fc.tuple(writeRoute, fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/json', 'application/jsonp', 'image/png')).map(
  ([r, t]) => ({ method: r.method, path: r.path, headers: { 'content-type': t }, body: JSON.stringify(r.body) }),
);

const READS = ['/api/v1/files/%s', '/api/v1/files/%s/locations', '/api/v1/regions/%s', '/api/v1/regions/%s/pending', '/api/v1/conflicts/%s', '/api/v1/principals/%s', '/api/v1/tokens/%s', '/api/v1/%s', '/%s'];
const hostilePath = fc.tuple(fc.constantFrom(...READS), segment, fc.constantFrom('GET', 'DELETE', 'POST')).map(([t, s, m]) => ({
  // A DELETE or POST to an id that is only hostile: a token id or region name refused before any write.
  method: t.includes('tokens') || t.includes('regions/%s') ? m : 'GET', path: t.replace('%s', s), headers: {},
})).filter((r) => !(r.method !== 'GET' && (r.path.endsWith('/pending') || r.path.includes('/files/') || r.path.includes('/conflicts/') || r.path.includes('/principals/'))));

const LISTS = ['/api/v1/regions', '/api/v1/conflicts', '/api/v1/policies', '/api/v1/rejections', '/api/v1/regions/eu-west/pending'];
const absurdQuery = fc.oneof(
  fc.tuple(fc.constantFrom(...LISTS), fc.constantFrom('limit', 'min_sequence', 'since'), absurd).map(([p, k, v]) => ({ method: 'GET', path: `${p}?${k}=${encodeURIComponent(v)}`, headers: {} })),
  fc.tuple(fc.constantFrom(...LISTS), fc.integer({ min: 1001, max: 2_000_000_000 })).map(([p, n]) => ({ method: 'GET', path: `${p}?limit=${n}`, headers: {} })),
  fc.tuple(fc.constantFrom('/api/v1/files/seed', '/api/v1/regions'), fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER })).map(([p, n]) => ({ method: 'GET', path: `${p}?min_sequence=${n}`, headers: {} })),
  // A cursor is any base64url text (it names the key to start after), so a hostile one gets a character outside it.
  fc.tuple(fc.constantFrom('state', 'strategy', 'region', 'code', 'cursor'), hostile).map(([k, h]) => ({ method: 'GET', path: `/api/v1/${k === 'code' ? 'rejections' : 'conflicts'}?${k}=${encodeURIComponent(k === 'cursor' ? `${h}~` : h)}`, headers: {} })),
  fc.tuple(fc.constantFrom(...LISTS), hostile).map(([p, h]) => ({ method: 'GET', path: `${p}?${encodeURIComponent(h)}=1`, headers: {} })),
  fc.integer({ min: 4097, max: 6000 }).map((n) => ({ method: 'GET', path: `/api/v1/effective-policy?path=${'a'.repeat(n)}`, headers: {} })),
);

const badAuth = fc.tuple(
  fc.constantFrom('/api/v1/regions', '/api/v1/files/seed', '/api/v1/principals', '/api/v1/status'),
  fc.oneof(fc.constant(''), fc.constant('Basic YWRtaW46YWRtaW4='), fc.constant('Bearer'), fc.constant('Bearer jzse_aaaaaaaaaaaaaaaa_' + 'A'.repeat(43)),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }).filter((s) => !/[\r\n\0]/.test(s) && /^[\x20-\x7e]*$/.test(s)).map((s) => `Bearer ${s}`)),
).map(([p, h]): Req & { noToken: boolean } => ({ method: 'GET', path: p, headers: h === '' ? { 'x-no-auth': '1' } : { authorization: h }, noToken: true }));

const request: fc.Arbitrary<Req & { noToken?: boolean }> = fc.oneof(corrupted, malformed, deep, oversized, wrongType, hostilePath, absurdQuery, badAuth);

describe('hostile input to the REST API', () => {
  let s: RestStack;
  let send: ReturnType<typeof restClient>;

  before(async () => {
    s = await startRestStack({ JZSE_REST_BODY_LIMIT_BYTES: String(LIMIT) });
    send = restClient(() => restBase(s.a), () => s.tokens.admin);
    const seed = await send('POST', '/api/v1/files', { body: { file_id: 'seed', region_id: 'eu-west', path: '/seed', size: 1, modified_at: '2026-11-25T10:00:00Z', vector_clock: { 'eu-west': 1 } } });
    assert.equal(seed.status, 404, 'eu-west is not registered yet');
    assert.equal((await send('PUT', '/api/v1/regions/eu-west', { body: { name: 'n', endpoint: 'e:1', location: { latitude: 1, longitude: 2 }, capacity_bytes: 1 } })).status, 200);
    assert.equal((await send('POST', '/api/v1/files', { token: s.tokens.region, body: { file_id: 'seed', region_id: 'eu-west', path: '/seed', size: 1, modified_at: '2026-11-25T10:00:00Z', vector_clock: { 'eu-west': 1 } } })).status, 201);
  });

  after(async () => {
    await s?.stop();
  });

  test(`${RUNS} generated requests: each a 4xx problem document; nothing appended, the view unchanged, the server serving`, async () => {
    const problem = componentChecker((await send('GET', '/api/v1/openapi.json')).json as OpenApi, 'Problem');
    const streamEnd = () => lastSequence(s.stack.client.jsm, s.stack.config.nats.stream);
    const end = await streamEnd();
    const view = asObject(await readEtcdView(s.stack));
    const statuses = new Map<number, number>();
    let notSent = 0;
    const started = Date.now();
    await fc.assert(fc.asyncProperty(request, async (r) => {
      let reply;
      try {
        reply = await send(r.method, r.path, { ...(r.noToken === true ? { token: null } : {}), ...(r.body === undefined ? {} : { raw: r.body }), headers: r.headers });
      } catch (error) {
        // fetch itself refuses some URLs and headers before sending: nothing reached the server.
        if (error instanceof TypeError && !/fetch failed/.test(error.message)) {
          notSent++;
          return;
        }
        throw error;
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      assert.ok(reply.status >= 400 && reply.status < 500, `${r.method} ${r.path} → ${reply.status}: ${reply.text.slice(0, 300)}`);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, `${r.method} ${r.path}: not a problem document`);
      const p = reply.json as { status: number; title: string; detail: string; type: string };
      assert.equal(p.status, reply.status);
      assert.equal(problem(p), undefined, `${r.method} ${r.path}: ${reply.text.slice(0, 300)}`);
      assert.ok(p.detail.length > 0 && p.title.length > 0 && p.type.length > 0);
    }), { numRuns: RUNS, seed: Number(process.env['JZSE_FUZZ_SEED'] ?? Date.now() % 2 ** 31), endOnFailure: true });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(await streamEnd(), end, 'a refused request appended an event');
    assert.deepEqual(asObject(await readEtcdView(s.stack)), view, 'the view changed');
    assert.equal((await send('GET', '/healthz')).status, 200);
    assert.equal((await send('GET', '/api/v1/files/seed')).status, 200);
    assert.ok(notSent < RUNS / 20, `${notSent} requests were refused by fetch itself: the generators test fetch, not the server`);
    console.log(`# ${RUNS} hostile requests in ${seconds.toFixed(1)} s (${notSent} not sendable by fetch); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });
});
