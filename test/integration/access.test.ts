// Who may call what on gRPC, on real servers with tokens from a real PostgreSQL: every method
// without a token, with each role that must not call it, a region token acting for another region
// (nothing appended, checked on the stream), an expired token and a token revoked on another
// instance (refused within one second), and the proven principal in what the API appends.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { findBinary } from '../../src/stack/processes.js';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as E from 'fp-ts/lib/Either.js';
import { METHOD_PERMISSIONS } from '../../src/api/guard.js';
import { SERVICES, serviceDefinition, type ServiceName } from '../../src/api/proto.js';
import type { Coordinator } from '../../src/coordinator.js';
import { lastSequence } from '../../src/nats/read.js';
import { openIdentityStore, type IdentityStore } from '../../src/store/identity.js';
import type { Issued } from '../../src/auth/model.js';
import { waitFor } from '../../src/util/waitFor.js';
import { call, connectClients, healthClient, listServicesByReflection, type Clients, type Reply } from '../support/grpcClient.js';
import { startPostgres, type Postgres } from '../support/postgres.js';
import { quietLog, startInProcess, startStack, type Stack } from '../support/stack.js';
import { jsonLines, jzse, runJzse } from '../support/cli.js';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';

const ts = (iso: string) => ({ seconds: String(Math.floor(Date.parse(iso) / 1000)), nanos: 0 });
const meta = (fileId: string, clock: Record<string, number>) => ({
  file_id: fileId, path: `/data/${fileId}`, size: '10', checksum: 'c', modified_at: ts('2026-11-25T10:00:00Z'),
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes: {},
});
const regionInfo = (id: string) => ({ id, name: id, endpoint: `${id}:7000`, location: { latitude: 1, longitude: 2, name: id }, capacity: { total_bytes: '1' } });
const wait = { wait_for_view: true };

/** A request per method naming region r2 where a request names a region (the guard runs before decoding). */
const REQUESTS: Record<string, Record<string, unknown>> = {
  'MetadataService/Get': { file_id: 'f1' },
  'MetadataService/Update': { region_id: 'r2', metadata: meta('f1', { r1: 1, r2: 1 }) },
  'MetadataService/Register': { region_id: 'r2', metadata: meta('f-r2', { r2: 1 }) },
  'MetadataService/GetLocations': { file_id: 'f1' },
  'MetadataService/BatchGet': { file_ids: ['f1'] },
  'SyncService/HandleChange': { event: { event_id: 'hc-r2', type: 'CREATED', region_id: 'r2', metadata: meta('f-hc', { r2: 1 }), timestamp: ts('2026-11-25T10:00:00Z') } },
  'SyncService/BroadcastChange': { event: { event_id: 'bc-r2', type: 'CREATED', region_id: 'r2', metadata: meta('f-bc', { r2: 1 }), timestamp: ts('2026-11-25T10:00:00Z') } },
  'SyncService/GetPendingChanges': { region_id: 'r2' },
  'SyncService/AckSync': { region_id: 'r2', event_ids: ['x'] },
  'ConflictService/Detect': { local: meta('f1', { r1: 1 }), remote: meta('f1', { r2: 1 }) },
  'ConflictService/Resolve': { conflict_id: 'nope', keep: 'local' },
  'ConflictService/ListConflicts': {},
  'RegionService/Register': { region: regionInfo('r9') },
  'RegionService/Deregister': { region_id: 'r9' },
  'RegionService/Heartbeat': { region_id: 'r2', status: { state: 'HEALTHY', sync_lag: '0', storage_used: '0', load_level: 0 } },
  'RegionService/GetActiveRegions': {},
  'RegionService/GetRegion': { region_id: 'r2' },
  'AuditService/ListRejections': {},
  'IdentityService/WhoAmI': {},
  'IdentityService/CreatePrincipal': { name: 'made-by-test', kind: 'person', grants: [] },
  'IdentityService/ListPrincipals': {},
  'IdentityService/SetGrants': { name: 'made-by-test', grants: [] },
  'IdentityService/DisablePrincipal': { name: 'made-by-test' },
  'IdentityService/IssueToken': { principal: 'made-by-test', name: 't' },
  'IdentityService/ListTokens': {},
  'IdentityService/RevokeToken': { id: 'aaaaaaaaaaaaaaaa' },
  'IdentityService/RotateToken': { id: 'aaaaaaaaaaaaaaaa' },
};

/** Written from the issue's roles, not from the code's table: what each role may call at all. */
const READS = ['MetadataService/Get', 'MetadataService/GetLocations', 'MetadataService/BatchGet', 'ConflictService/Detect', 'ConflictService/ListConflicts',
  'RegionService/GetActiveRegions', 'RegionService/GetRegion', 'SyncService/GetPendingChanges', 'IdentityService/WhoAmI'];
const REGION_WRITES = ['MetadataService/Update', 'MetadataService/Register', 'SyncService/HandleChange', 'SyncService/BroadcastChange', 'SyncService/AckSync', 'RegionService/Heartbeat'];
const MAY: Record<'operator' | 'auditor' | 'region', ReadonlySet<string>> = {
  operator: new Set([...READS, 'AuditService/ListRejections', 'RegionService/Register', 'RegionService/Deregister', 'ConflictService/Resolve']),
  auditor: new Set([...READS, 'AuditService/ListRejections']),
  region: new Set([...READS, ...REGION_WRITES]),
};

const allMethods = (): string[] => SERVICES.flatMap((s) => Object.keys(serviceDefinition(s)).map((m) => `${s}/${m}`));

describe('access to the gRPC API', () => {
  let pg: Postgres;
  let stack: Stack;
  let storeA: IdentityStore;
  let storeB: IdentityStore;
  let a: Coordinator;
  let b: Coordinator;
  const tokens: Record<string, Issued> = {};
  const clients: Clients[] = [];
  const clientsOf = (c: Coordinator, token?: string): Clients => {
    const made = connectClients(c.api.port, token);
    clients.push(made);
    return made;
  };
  const invoke = (C: Clients, method: string, request?: unknown): Promise<Reply> => {
    const [service, name] = method.split('/') as [ServiceName, string];
    return call(C[service], name, request ?? REQUESTS[method]);
  };
  const seq = () => lastSequence(stack.client.jsm, stack.config.nats.stream);
  const must = <T>(e: E.Either<unknown, T>): T => {
    if (E.isLeft(e)) throw new Error(JSON.stringify(e.left));
    return e.right;
  };

  before(async () => {
    stack = await startStack({ JZSE_AUTH_ENABLED: 'true', JZSE_AUTH_CACHE_TTL: '500ms' });
    pg = await startPostgres(join(stack.dir, 'postgres'));
    storeA = must(await openIdentityStore({ url: pg.url, dataDir: join(stack.dir, 'a'), log: quietLog }));
    storeB = must(await openIdentityStore({ url: pg.url, dataDir: join(stack.dir, 'b'), log: quietLog }));
    const admin = await storeA.bootstrapAdmin();
    assert.ok(admin !== undefined, 'an empty store makes a first admin');
    assert.equal(await storeB.bootstrapAdmin(), undefined, 'only once');
    tokens['admin'] = admin;
    const grants = { operator: [{ role: 'operator', region: null }], auditor: [{ role: 'auditor', region: null }], region: [{ role: 'region', region: 'r1' }] } as const;
    for (const [name, g] of Object.entries(grants)) {
      must(await storeA.createPrincipal({ name, kind: name === 'region' ? 'region' : 'person', grants: [...g] }));
      tokens[name] = must(await storeA.issueToken(name, { name: 'test', expiresAt: null }));
    }
    a = await startInProcess(stack, 'a', {}, undefined, { identity: storeA });
    b = await startInProcess(stack, 'b', {}, undefined, { identity: storeB });
    const op = clientsOf(a, tokens['operator']?.token);
    for (const id of ['r1', 'r2']) assert.ok((await call(op.RegionService, 'Register', { region: regionInfo(id), write: wait })).ok);
    const r1 = clientsOf(a, tokens['region']?.token);
    const registered = await call(r1.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f1', { r1: 1 }), write: wait });
    assert.ok(registered.ok, registered.error?.details);
  });
  after(async () => {
    for (const c of clients) c.close();
    await a?.stop();
    await b?.stop();
    await storeA?.close();
    await storeB?.close();
    await pg?.stop();
    await stack?.stop();
  });

  test('the guard classifies every method of every service, and the test covers them all', () => {
    assert.deepEqual(allMethods().sort(), Object.entries(METHOD_PERMISSIONS).flatMap(([s, ms]) => Object.keys(ms).map((m) => `${s}/${m}`)).sort());
    assert.deepEqual(allMethods().sort(), Object.keys(REQUESTS).sort());
  });

  test('no token, a malformed one or an unknown one: UNAUTHENTICATED on every method, nothing appended', async () => {
    const before = await seq();
    const none = clientsOf(a);
    const garbage = clientsOf(a, 'not-a-token');
    const unknown = clientsOf(a, `jzse_${'a'.repeat(16)}_${'b'.repeat(43)}`);
    for (const method of allMethods()) {
      for (const [what, C] of [['no token', none], ['malformed', garbage], ['unknown', unknown]] as const) {
        const r = await invoke(C, method);
        assert.equal(r.error?.code, grpc.status.UNAUTHENTICATED, `${method} with ${what}: ${r.error?.code} ${r.error?.details}`);
      }
    }
    assert.equal(await seq(), before);
  });

  test('each role outside a method gets PERMISSION_DENIED, and one inside gets past the guard', async () => {
    for (const role of ['operator', 'auditor', 'region'] as const) {
      const C = clientsOf(a, tokens[role]?.token);
      for (const method of allMethods()) {
        const before = await seq();
        const r = await invoke(C, method);
        const denied = r.error?.code === grpc.status.PERMISSION_DENIED;
        const expected = !MAY[role].has(method) || (role === 'region' && (REGION_WRITES.includes(method) || method === 'SyncService/GetPendingChanges'));
        // A region token's requests here all name r2, so its own writes are refused too (next test).
        assert.equal(denied, expected, `${role} ${method}: ${r.error?.code} ${r.error?.details}`);
        assert.notEqual(r.error?.code, grpc.status.UNAUTHENTICATED, `${role} ${method}`);
        if (denied) assert.equal(await seq(), before, `${role} ${method}: nothing appended`);
      }
    }
  });

  test('a region token acting for another region: PERMISSION_DENIED naming the field, nothing appended (on the stream)', async () => {
    const C = clientsOf(a, tokens['region']?.token);
    for (const method of [...REGION_WRITES, 'SyncService/GetPendingChanges']) {
      const before = await seq();
      const r = await invoke(C, method);
      assert.equal(r.error?.code, grpc.status.PERMISSION_DENIED, method);
      assert.match(r.error?.details ?? '', /region_id: .*acts for region r1 only, not for r2/, method);
      assert.equal(await seq(), before, `${method}: the stream did not grow`);
    }
    // And for itself it may; the log says who did it, from the token, on a subject only the API uses.
    const own = await call<{ write: { sequence: string } }>(C.RegionService, 'Heartbeat', { region_id: 'r1', status: { state: 'HEALTHY', sync_lag: '0', storage_used: '0', load_level: 0 } });
    assert.ok(own.ok, own.error?.details);
    const stored = await stack.client.jsm.streams.getMessage(stack.config.nats.stream, { seq: Number(own.value.write.sequence) });
    assert.equal(stored?.subject, 'jzse.api.regions.status.r1');
    assert.equal(stored?.header.get(PRINCIPAL_HEADER), 'region');
    const replayed = await jzse(stack, ['replay', '--principal', 'region', '--json']);
    assert.equal(replayed.code, 0, replayed.stderr);
    const rows = jsonLines(replayed.stdout) as Array<{ seq: number; principal: string; proven: boolean }>;
    assert.ok(rows.some((r) => r.seq === Number(own.value.write.sequence) && r.principal === 'region' && r.proven), 'jzse replay --principal finds it');
  });

  test('an operator event records the caller; naming someone else is refused', async () => {
    const C = clientsOf(a, tokens['operator']?.token);
    const r = await call(C.ConflictService, 'Resolve', { conflict_id: 'c1', operator: 'somebody-else', keep: 'local' });
    assert.equal(r.error?.code, grpc.status.PERMISSION_DENIED);
    assert.match(r.error?.details ?? '', /^operator: names "somebody-else", but the caller is operator/);
  });

  test('an expired token is refused within one second of its expiry', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const short = must(await storeA.issueToken('auditor', { name: 'short', expiresAt }));
    const C = clientsOf(b, short.token);
    assert.ok((await invoke(C, 'RegionService/GetActiveRegions')).ok);
    const refusedAt = await waitFor(async () => {
      const r = await invoke(C, 'RegionService/GetActiveRegions');
      return r.error?.code === grpc.status.UNAUTHENTICATED ? Date.now() : undefined;
    }, { timeoutMs: 5000, intervalMs: 50, what: 'the expired token to be refused' });
    assert.ok(refusedAt - expiresAt.getTime() <= 1000, `refused ${refusedAt - expiresAt.getTime()} ms after expiry`);
  });

  test('a token revoked on one instance is refused by another within one second', async () => {
    const t = must(await storeA.issueToken('auditor', { name: 'to-revoke', expiresAt: null }));
    const onB = clientsOf(b, t.token);
    assert.ok((await invoke(onB, 'RegionService/GetActiveRegions')).ok, 'works (and is cached) on b');
    const admin = clientsOf(a, tokens['admin']?.token);
    const revoked = await call(admin.IdentityService, 'RevokeToken', { id: t.info.id });
    assert.ok(revoked.ok, revoked.error?.details);
    const at = Date.now();
    assert.equal((await invoke(clientsOf(a, t.token), 'RegionService/GetActiveRegions')).error?.code, grpc.status.UNAUTHENTICATED, 'at once on a');
    const refusedAt = await waitFor(async () => {
      const r = await invoke(onB, 'RegionService/GetActiveRegions');
      return r.error?.code === grpc.status.UNAUTHENTICATED ? Date.now() : undefined;
    }, { timeoutMs: 5000, intervalMs: 20, what: 'b to refuse the revoked token' });
    assert.ok(refusedAt - at <= 1000, `b refused it ${refusedAt - at} ms after the revocation`);
  });

  test('jzse nats-config prints a block nats-server accepts, with a user per live token and no secret', async () => {
    const passwordFile = join(stack.dir, 'coordinator.password');
    writeFileSync(passwordFile, 'a-coordinator-password\n', { mode: 0o600 });
    const env = { ...process.env, ...stack.env, JZSE_CONFIG: undefined, JZSE_DATABASE_URL: pg.url, JZSE_NATS_USER: 'jzse-coordinator', JZSE_NATS_PASSWORD_FILE: passwordFile };
    const { code, stdout, stderr } = await runJzse(['nats-config'], env);
    assert.equal(code, 0, stderr);
    const out = { text: stdout };
    for (const t of Object.values(tokens)) {
      assert.ok(out.text.includes(t.info.id), `a user for ${t.info.principal}`);
      assert.ok(!out.text.includes(t.token.slice(-43)), 'no secret');
    }
    assert.ok(!out.text.includes('a-coordinator-password'));
    const file = join(stack.dir, 'generated.conf');
    writeFileSync(file, out.text);
    execFileSync(findBinary('nats-server'), ['-t', '-c', file], { stdio: 'pipe' });
  });

  test('health checking and reflection stay open', async () => {
    const health = healthClient(a.api.port);
    const r = await call<{ status: string }>(health, 'Check', { service: '' });
    health.close();
    assert.ok(r.ok, r.error?.details);
    assert.ok((await listServicesByReflection(a.api.port)).includes('jzse.coordinator.v1.IdentityService'));
  });
});
