// docs/api.md is the API reference: every ```json example in it runs, in document order, through a
// real gRPC client against a coordinator on real NATS and etcd, and must answer what it shows; every
// method of the six services has an example; and the services it says grpcurl lists are the ones
// server reflection lists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { PACKAGE, SERVICES, packageDefinition, serviceDefinition, type ServiceName } from '../../src/api/proto.js';
import type { Coordinator } from '../../src/coordinator.js';
import { call, connectClients, listServicesByReflection, type Clients } from '../support/grpcClient.js';
import { quietLog, startInProcess, startStack, type Stack } from '../support/stack.js';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { openIdentityStore, type IdentityStore } from '../../src/store/identity.js';

const DOC = 'docs/api.md';
const lines = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8').split('\n');

// ---- reading the page ----------------------------------------------------------------------------

type Example = { readonly line: number; readonly service: ServiceName; readonly method: string; readonly body: Record<string, unknown> };

/** The method a heading names (`### MetadataService.Get`, `#### ABORTED: MetadataService.Update ...`), if any. */
const methodOf = (heading: string): { service: ServiceName; method: string } | undefined => {
  const m = new RegExp(`\\b(${SERVICES.join('|')})\\.([A-Za-z]+)\\b`).exec(heading);
  return m ? { service: m[1] as ServiceName, method: m[2] ?? '' } : undefined;
};

const blocks: Array<{ line: number; lang: string; text: string; heading: string; before: string }> = [];
{
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^#{1,6} /.test(line)) heading = line;
    const fence = /^\s*```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    assert.ok(end > i, `${DOC} line ${i + 1}: unterminated code block`);
    blocks.push({ line: i + 1, lang: fence[1] ?? '', text: lines.slice(i + 1, end).join('\n'), heading, before: lines.slice(Math.max(0, i - 3), i).join('\n') });
    i = end;
  }
}

const examples: Example[] = blocks.filter((b) => b.lang === 'json').map((b) => {
  const target = methodOf(b.heading);
  assert.ok(target, `${DOC} line ${b.line}: a json example must sit under a heading naming Service.Method (it is under "${b.heading}")`);
  let body: unknown;
  try {
    body = JSON.parse(b.text);
  } catch (error) {
    assert.fail(`${DOC} line ${b.line}: not JSON: ${(error as Error).message}`);
  }
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `${DOC} line ${b.line}: an example is a JSON object`);
  const keys = Object.keys(body);
  const unknown = keys.filter((k) => !['request', 'response', 'error', 'deadline_ms', 'token'].includes(k));
  assert.deepEqual(unknown, [], `${DOC} line ${b.line}: unknown keys`);
  assert.ok('request' in body, `${DOC} line ${b.line}: no request`);
  assert.ok(!('response' in body && 'error' in body), `${DOC} line ${b.line}: both response and error`);
  return { line: b.line, ...target, body };
});

// ---- proto3 JSON <-> what @grpc/proto-loader takes and gives ---------------------------------------

type FieldDescriptor = { name: string; type: string; typeName: string; label: string };
const descriptorOf = (typeName: string): { field: FieldDescriptor[] } | undefined =>
  (packageDefinition[`${PACKAGE}.${typeName}`] as unknown as { type?: { field: FieldDescriptor[] } } | undefined)?.type;
const methodDefinition = (service: ServiceName, method: string) =>
  (packageDefinition[`${PACKAGE}.${service}`] as unknown as Record<string, { requestType: { type: { name: string } }; responseType: { type: { name: string } } }>)[method];

const TIMESTAMP = 'google.protobuf.Timestamp';
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

const toTimestamp = (value: unknown, where: string): { seconds: string; nanos: number } => {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  assert.ok(m, `${where}: a Timestamp is an RFC 3339 string, got ${JSON.stringify(value)}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return { seconds: String(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
};
/** As protojson writes it: no fraction when whole, else 3, 6 or 9 digits. */
const fromTimestamp = (t: { seconds: string; nanos: number }): string => {
  const base = new Date(Number(t.seconds) * 1000).toISOString().slice(0, 19);
  if (t.nanos === 0) return `${base}Z`;
  const digits = String(t.nanos).padStart(9, '0');
  return `${base}.${digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits}Z`;
};

/** Walks a message by its descriptor, converting every Timestamp field with `convert`. */
const mapTimestamps = (value: unknown, typeName: string, convert: (v: unknown, where: string) => unknown, where: string): unknown => {
  const descriptor = descriptorOf(typeName);
  if (descriptor === undefined || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const f of descriptor.field) {
    const v = out[f.name];
    if (v === undefined || v === null || f.type !== 'TYPE_MESSAGE') continue;
    const at = `${where}.${f.name}`;
    if (f.typeName === TIMESTAMP) out[f.name] = convert(v, at);
    else if (Array.isArray(v)) out[f.name] = v.map((item, i) => mapTimestamps(item, f.typeName, convert, `${at}[${i}]`));
    else if (f.label !== 'LABEL_REPEATED') out[f.name] = mapTimestamps(v, f.typeName, convert, at); // (a repeated non-array is a map)
  }
  return out;
};

// ---- matching ---------------------------------------------------------------------------------------

const PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Replaces "${name}" strings with their bound values. */
const substitute = (value: unknown, bound: Map<string, unknown>, where: string): unknown => {
  if (typeof value === 'string') {
    const name = PLACEHOLDER.exec(value)?.[1];
    if (name === undefined) return value;
    assert.ok(bound.has(name), `${where}: \${${name}} is used before an answer gave it a value`);
    return bound.get(name);
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, bound, `${where}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, bound, `${where}.${k}`)]));
  }
  return value;
};

/** Differences between `actual` and the part of it the page shows; binds "${name}" on first sight. */
const mismatches = (actual: unknown, expected: unknown, bound: Map<string, unknown>, path: string): string[] => {
  if (typeof expected === 'string') {
    const name = PLACEHOLDER.exec(expected)?.[1];
    if (name !== undefined) {
      if (actual === undefined || actual === null) return [`${path}: expected a value for \${${name}}, got ${JSON.stringify(actual)}`];
      if (!bound.has(name)) {
        bound.set(name, actual);
        return [];
      }
      return bound.get(name) === actual ? [] : [`${path}: expected \${${name}} = ${JSON.stringify(bound.get(name))}, got ${JSON.stringify(actual)}`];
    }
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected a list, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual).slice(0, 300)}`];
    return expected.flatMap((e, i) => mismatches(actual[i], e, bound, `${path}[${i}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, e]) => mismatches((actual as Record<string, unknown>)[k], e, bound, `${path}.${k}`));
  }
  return Object.is(actual, expected) ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
};

// ---- the tests ----------------------------------------------------------------------------------------

describe(`${DOC}`, () => {
  let stack: Stack;
  let identity: IdentityStore;
  let coordinator: Coordinator;
  let clients: Clients;
  const bound = new Map<string, unknown>();
  /** Clients by the token they send ("" for none), made on first use. */
  const byToken = new Map<string, Clients>();
  const clientsFor = (token: string): Clients => {
    const known = byToken.get(token);
    if (known !== undefined) return known;
    const made = connectClients(coordinator.api.port, token === '' ? undefined : token);
    byToken.set(token, made);
    return made;
  };

  // The page is read by people who run a coordinator as it ships: with authentication on.
  before(async () => {
    stack = await startStack({ JZSE_AUTH_ENABLED: 'true' });
    const opened = await openIdentityStore({ url: null, dataDir: join(stack.dir, 'docs'), log: quietLog });
    if (E.isLeft(opened)) throw new Error(opened.left);
    identity = opened.right;
    const admin = await identity.bootstrapAdmin();
    assert.ok(admin !== undefined);
    coordinator = await startInProcess(stack, 'docs', {}, undefined, { identity });
    clients = clientsFor(admin.token);
  });
  after(async () => {
    for (const c of byToken.values()) c.close();
    await coordinator?.stop();
    await identity?.close();
    await stack?.stop();
  });

  test('every method of the six services has an example, and every example names a real method', () => {
    const methods = SERVICES.flatMap((s) => Object.keys(serviceDefinition(s)).map((m) => `${s}.${m}`));
    assert.equal(methods.length, 27);
    const shown = new Set(examples.map((e) => `${e.service}.${e.method}`));
    assert.deepEqual(methods.filter((m) => !shown.has(m)), [], 'methods without an example');
    for (const e of examples) assert.ok(methods.includes(`${e.service}.${e.method}`), `${DOC} line ${e.line}: no method ${e.service}.${e.method}`);
  });

  test('the services `grpcurl ... list` shows are the ones reflection lists', async () => {
    const listing = blocks.find((b) => b.lang === 'text' && /grpcurl -plaintext \S+ list/.test(b.before));
    assert.ok(listing, `${DOC}: no text block after a "grpcurl -plaintext <address> list" command`);
    const documented = listing.text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    assert.deepEqual(documented, [...(await listServicesByReflection(coordinator.api.port))].sort());
  });

  for (const example of examples) {
    test(`line ${example.line}: ${example.service}.${example.method}`, async () => {
      const where = `${DOC} line ${example.line}`;
      const def = methodDefinition(example.service, example.method);
      assert.ok(def, `${where}: no method ${example.service}.${example.method}`);
      const request = mapTimestamps(substitute(example.body['request'], bound, `${where} request`), def.requestType.type.name, toTimestamp, `${where} request`);
      const deadline = typeof example.body['deadline_ms'] === 'number' ? example.body['deadline_ms'] : 15_000;
      const token = example.body['token'] === undefined ? undefined : substitute(example.body['token'], bound, `${where} token`);
      assert.ok(token === undefined || typeof token === 'string', `${where}: token is a string`);
      const reply = await call((token === undefined ? clients : clientsFor(token))[example.service], example.method, request, deadline);

      if ('error' in example.body) {
        const expected = example.body['error'] as { code: string; message?: string; trailers?: Record<string, unknown> };
        assert.equal(reply.ok, false, `${where}: expected ${expected.code}, got OK ${JSON.stringify(reply.value)}`);
        const error = reply.error;
        assert.equal(grpc.status[error.code], expected.code, `${where}: expected ${expected.code}, got ${grpc.status[error.code]}: ${error.details}`);
        assert.ok(error.details.trim() !== '', `${where}: the error has no message`);
        if (expected.message !== undefined) assert.ok(error.details.includes(expected.message), `${where}: message ${JSON.stringify(error.details)} does not contain ${JSON.stringify(expected.message)}`);
        for (const [name, shown] of Object.entries(expected.trailers ?? {})) {
          const [raw] = error.metadata.get(name);
          assert.ok(raw !== undefined, `${where}: no trailer ${name}`);
          const decoded = JSON.parse(Buffer.from(raw).toString()) as unknown;
          assert.deepEqual(mismatches(decoded, shown, bound, name), [], `${where}: trailer ${name}`);
        }
        return;
      }
      assert.ok(reply.ok, `${where}: expected OK, got ${reply.error ? grpc.status[reply.error.code] : ''}: ${reply.error?.details}`);
      const actual = mapTimestamps(reply.value, def.responseType.type.name,
        (v) => fromTimestamp(v as { seconds: string; nanos: number }), 'response');
      assert.deepEqual(mismatches(actual, example.body['response'] ?? {}, bound, 'response'), [], `${where}: the answer differs from the page`);
    });
  }
});
