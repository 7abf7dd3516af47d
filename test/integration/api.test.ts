// The gRPC API through real clients against two coordinator instances on real NATS and etcd.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Coordinator } from '../../src/coordinator.js';
import { waitFor } from '../../src/util/waitFor.js';
import { lastSequence } from '../../src/nats/read.js';
import { call, connectClients, detail, healthClient, listServicesByReflection, type Clients, type Reply } from '../support/grpcClient.js';
import { startInProcess, startStack, type Stack } from '../support/stack.js';

const ts = (iso: string) => ({ seconds: String(Math.floor(Date.parse(iso) / 1000)), nanos: 0 });
const meta = (fileId: string, clock: Record<string, number>, extra: Record<string, unknown> = {}) => ({
  file_id: fileId, path: `/data/${fileId}`, size: '1024', checksum: `sha256:${fileId}`,
  modified_at: ts('2026-11-25T10:00:00Z'), vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])),
  attributes: { owner: 'ann' }, ...extra,
});
const region = (id: string) => ({
  id, name: `Region ${id}`, endpoint: `${id}.example:7000`,
  location: { latitude: 48.1, longitude: 11.6, name: `dc-${id}` }, capacity: { total_bytes: '1000000' },
});
const waitWrite = { wait_for_view: true };

const ok = <T>(reply: Reply<T>): T => {
  assert.ok(reply.ok, `expected OK, got ${reply.error?.code} ${reply.error?.details}`);
  return reply.value;
};
const failed = (reply: Reply<unknown>, code: grpc.status, details?: RegExp): grpc.ServiceError => {
  assert.equal(reply.ok, false, `expected ${grpc.status[code]}, got OK`);
  assert.equal(reply.error?.code, code, `expected ${grpc.status[code]}, got ${reply.error?.code}: ${reply.error?.details}`);
  if (details) assert.match(reply.error?.details ?? '', details);
  return reply.error;
};

type WriteReply = { write: { sequence: string; event_id: string; view_reached: boolean } };

describe('gRPC API on two instances', () => {
  let stack: Stack;
  let a: Coordinator;
  let b: Coordinator;
  let A: Clients;
  let B: Clients;

  before(async () => {
    stack = await startStack();
    a = await startInProcess(stack, 'a');
    b = await startInProcess(stack, 'b');
    A = connectClients(a.api.port);
    B = connectClients(b.api.port);
    for (const id of ['r1', 'r2', 'r3']) ok(await call(A.RegionService, 'Register', { region: region(id), write: waitWrite }));
  });
  after(async () => {
    A.close();
    B.close();
    await a.stop();
    await b.stop();
    await stack.stop();
  });

  test('health is SERVING and reflection lists the five services', async () => {
    const health = healthClient(a.api.port);
    const reply = ok(await call<{ status: string }>(health, 'Check', { service: 'jzse.coordinator.v1.MetadataService' }));
    assert.equal(reply.status, 'SERVING');
    health.close();
    const services = await listServicesByReflection(b.api.port);
    for (const s of ['MetadataService', 'SyncService', 'ConflictService', 'RegionService', 'AuditService']) assert.ok(services.includes(`jzse.coordinator.v1.${s}`), s);
  });

  test('write.min_sequence: a write through B is judged on a view that has A\'s earlier write', async () => {
    const joined = ok(await call<WriteReply>(A.RegionService, 'Register', { region: region('r7') }));
    const status = { state: 'HEALTHY', sync_lag: '0', storage_used: '0', load_level: 0 };
    const beat = ok(await call<WriteReply>(B.RegionService, 'Heartbeat', { region_id: 'r7', status, write: { min_sequence: joined.write.sequence, wait_for_view: true } }));
    assert.ok(Number(beat.write.sequence) > Number(joined.write.sequence));
    const far = String(Number(beat.write.sequence) + 1_000_000);
    const before = await lastSequence(stack.client.jsm, stack.config.nats.stream);
    const late = await call(B.RegionService, 'Heartbeat', { region_id: 'r7', status, write: { min_sequence: far } }, 1500);
    assert.equal(late.ok, false);
    assert.ok(late.error?.code === grpc.status.DEADLINE_EXCEEDED, `${late.error?.code} ${late.error?.details}`);
    assert.equal(await lastSequence(stack.client.jsm, stack.config.nats.stream), before, 'nothing appended');
    ok(await call(A.RegionService, 'Deregister', { region_id: 'r7', write: { wait_for_view: true } }));
  });

  test('a write through A is readable through B with the returned sequence', async () => {
    const written = ok(await call<WriteReply>(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f1', { r1: 1 }), replicas: 2 }));
    const seq = written.write.sequence;
    assert.ok(Number(seq) > 0);
    const read = ok(await call<{ file: { metadata: { file_id: string; size: string }; primary: string; replicas: number; locations: Array<{ region_id: string; state: string }> }; view_sequence: string }>(
      B.MetadataService, 'Get', { file_id: 'f1', read: { min_sequence: seq } }));
    assert.equal(read.file.metadata.file_id, 'f1');
    assert.equal(read.file.metadata.size, '1024');
    assert.equal(read.file.primary, 'r1');
    assert.equal(read.file.replicas, 2);
    assert.deepEqual(read.file.locations.map((l) => [l.region_id, l.state]), [['r1', 'SYNCED']]);
    assert.ok(Number(read.view_sequence) >= Number(seq));
    failed(await call(B.MetadataService, 'Register', { region_id: 'r2', metadata: meta('f1', { r2: 1 }) }), grpc.status.ALREADY_EXISTS, /f1 is already registered/);
  });

  test('Update: AFTER applies, EQUAL is a no-op, BEFORE is ABORTED with the current version, CONCURRENT is a conflict', async () => {
    ok(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f2', { r1: 1 }), write: waitWrite }));
    const after = ok(await call<WriteReply & { outcome: string }>(A.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f2', { r1: 2 }, { size: '2048' }), write: waitWrite }));
    assert.equal(after.outcome, 'APPLIED');
    assert.equal(after.write.view_reached, true);

    const equal = ok(await call<WriteReply & { outcome: string }>(B.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f2', { r1: 2 }) }));
    assert.equal(equal.outcome, 'NO_OP');
    assert.equal(equal.write.sequence, '0', 'nothing appended');

    const stale = failed(await call(B.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f2', { r1: 1 }) }), grpc.status.ABORTED, /before the file.s current clock/);
    const current = detail(stale, 'current-version') as { metadata: { size: string; vector_clock: Record<string, string> } };
    assert.equal(current.metadata.size, '2048');
    assert.deepEqual(current.metadata.vector_clock, { r1: '2' });

    const concurrent = ok(await call<WriteReply & { outcome: string; conflict_id: string }>(A.MetadataService, 'Update', { region_id: 'r2', metadata: meta('f2', { r1: 1, r2: 1 }), write: waitWrite }));
    assert.equal(concurrent.outcome, 'CONFLICT');
    const listed = ok(await call<{ conflicts: Array<{ conflict_id: string; file_id: string; strategy: string; status: string; local_version: { metadata: { size: string } } }> }>(
      B.ConflictService, 'ListConflicts', { file_id: 'f2', read: { min_sequence: concurrent.write.sequence } }));
    assert.deepEqual(listed.conflicts.map((c) => [c.conflict_id, c.file_id, c.strategy, c.status]), [[concurrent.conflict_id, 'f2', 'last_writer_wins', 'resolved']]);
    assert.equal(listed.conflicts[0]?.local_version.metadata.size, '2048');
    failed(await call(A.ConflictService, 'Resolve', { conflict_id: concurrent.conflict_id, operator: 'alice', keep: 'local' }), grpc.status.FAILED_PRECONDITION, /is resolved \(by last_writer_wins\)/);
    failed(await call(A.ConflictService, 'Resolve', { conflict_id: 'nope', operator: 'alice', keep: 'local' }), grpc.status.NOT_FOUND);
    failed(await call(A.MetadataService, 'Update', { region_id: 'r1', metadata: meta('ghost', { r1: 2 }) }), grpc.status.NOT_FOUND, /ghost is not registered/);
  });

  test('BatchGet returns missing ids as missing; GetLocations lists locations', async () => {
    ok(await call(A.MetadataService, 'Register', { region_id: 'r2', metadata: meta('f3', { r2: 1 }), write: waitWrite }));
    const batch = ok(await call<{ files: Array<{ metadata: { file_id: string } }>; missing: string[] }>(B.MetadataService, 'BatchGet', { file_ids: ['f3', 'nope-1', 'f3', 'nope-2'] }));
    assert.deepEqual(batch.files.map((f) => f.metadata.file_id), ['f3']);
    assert.deepEqual(batch.missing, ['nope-1', 'nope-2']);
    const locations = ok(await call<{ locations: Array<{ region_id: string; state: string }> }>(B.MetadataService, 'GetLocations', { file_id: 'f3' }));
    assert.deepEqual(locations.locations.map((l) => [l.region_id, l.state]), [['r2', 'SYNCED']]);
    failed(await call(B.MetadataService, 'Get', { file_id: 'nope-1' }), grpc.status.NOT_FOUND);
  });

  test('HandleChange, BroadcastChange, GetPendingChanges and AckSync', async () => {
    const change = { event_id: 'hc-1', type: 'CREATED', region_id: 'r2', metadata: meta('f4', { r2: 1 }), timestamp: ts('2026-11-25T10:00:00Z') };
    const handled = ok(await call<WriteReply>(A.SyncService, 'HandleChange', { event: change, wait_for_view: true }));
    assert.equal(handled.write.event_id, 'hc-1');
    const again = ok(await call<WriteReply & { write: { duplicate: boolean } }>(B.SyncService, 'HandleChange', { event: change }));
    assert.equal(again.write.duplicate, true, 'same event id is stored once');
    assert.equal(again.write.sequence, handled.write.sequence);

    const update = { event_id: 'bc-1', type: 'UPDATED', region_id: 'r2', metadata: meta('f4', { r2: 2 }) };
    const broadcast = ok(await call<WriteReply & { target_regions: string[] }>(B.SyncService, 'BroadcastChange', { event: update, exclude_region: 'r2', wait_for_view: true }));
    assert.deepEqual(broadcast.target_regions, ['r1', 'r3']);

    const pending = ok(await call<{ changes: Array<{ file_id: string; event_id: string; vector_clock: Record<string, string> }> }>(A.SyncService, 'GetPendingChanges', { region_id: 'r3', since: handled.write.sequence }));
    assert.deepEqual(pending.changes.map((c) => [c.file_id, c.event_id]), [['f4', 'bc-1']]);
    assert.deepEqual(pending.changes[0]?.vector_clock, { r2: '2' });

    const acked = ok(await call<WriteReply & { acked_file_ids: string[]; unknown_event_ids: string[] }>(B.SyncService, 'AckSync', { region_id: 'r3', event_ids: ['bc-1', 'unknown-x'], write: waitWrite }));
    assert.deepEqual(acked.acked_file_ids, ['f4']);
    assert.deepEqual(acked.unknown_event_ids, ['unknown-x']);
    const after = ok(await call<{ changes: Array<{ file_id: string }> }>(A.SyncService, 'GetPendingChanges', { region_id: 'r3', read: { min_sequence: acked.write.sequence } }));
    assert.equal(after.changes.some((c) => c.file_id === 'f4'), false);
    const loc = ok(await call<{ locations: Array<{ region_id: string; state: string }> }>(A.MetadataService, 'GetLocations', { file_id: 'f4' }));
    assert.deepEqual(loc.locations.map((l) => [l.region_id, l.state]), [['r2', 'SYNCED'], ['r3', 'SYNCED']]);
    failed(await call(A.SyncService, 'AckSync', { region_id: 'r3', event_ids: ['nothing'] }), grpc.status.NOT_FOUND);
  });

  test('Detect reports the relation without storing anything', async () => {
    const seq = await a.reader.checkpoint();
    const relation = async (l: Record<string, number>, r: Record<string, number>) =>
      ok(await call<{ relation: string; conflict: boolean }>(A.ConflictService, 'Detect', { local: meta('x', l), remote: meta('x', r) }));
    assert.deepEqual(await relation({ r1: 1 }, { r2: 1 }), { relation: 'CONCURRENT', conflict: true });
    assert.deepEqual(await relation({ r1: 1 }, { r1: 2 }), { relation: 'BEFORE', conflict: false });
    assert.deepEqual(await relation({ r1: 3 }, { r1: 2 }), { relation: 'AFTER', conflict: false });
    assert.deepEqual(await relation({ r1: 2 }, { r1: 2, r2: 0 }), { relation: 'EQUAL', conflict: false });
    assert.equal(await a.reader.checkpoint(), seq);
  });

  test('regions: heartbeat, GetRegion, Deregister, GetActiveRegions', async () => {
    const hb = ok(await call<WriteReply>(A.RegionService, 'Heartbeat', { region_id: 'r1', status: { state: 'DEGRADED', sync_lag: '4', storage_used: '99', load_level: 0.5 } }));
    const got = ok(await call<{ region: { id: string; status: { state: string; sync_lag: string; load_level: number }; location: { name: string } } }>(B.RegionService, 'GetRegion', { region_id: 'r1', read: { min_sequence: hb.write.sequence } }));
    assert.deepEqual([got.region.status.state, got.region.status.sync_lag, got.region.status.load_level], ['DEGRADED', '4', 0.5]);
    assert.equal(got.region.location.name, 'dc-r1');
    const dereg = ok(await call<WriteReply>(A.RegionService, 'Deregister', { region_id: 'r3', reason: 'decommissioned' }));
    const active = ok(await call<{ regions: Array<{ id: string }> }>(B.RegionService, 'GetActiveRegions', { read: { min_sequence: dereg.write.sequence } }));
    assert.deepEqual(active.regions.map((r) => r.id), ['r1', 'r2']);
    failed(await call(B.RegionService, 'GetRegion', { region_id: 'r9' }), grpc.status.NOT_FOUND);
    failed(await call(B.RegionService, 'Heartbeat', { region_id: 'r3', status: { state: 'HEALTHY' } }), grpc.status.NOT_FOUND);
  });

  test('INVALID_ARGUMENT names the field and the reason', async () => {
    failed(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('', { r1: 1 }) }), grpc.status.INVALID_ARGUMENT, /^metadata\.file_id: expected id/);
    failed(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f9', { r1: -1 }) }), grpc.status.INVALID_ARGUMENT, /metadata\.vector_clock\.r1: expected non-negative integer, got "-1"/);
    failed(await call(A.MetadataService, 'Register', { region_id: 'R 1', metadata: meta('f9', { r1: 1 }) }), grpc.status.INVALID_ARGUMENT, /^region_id: expected region id/);
    failed(await call(A.MetadataService, 'Register', { region_id: 'r1' }), grpc.status.INVALID_ARGUMENT, /^metadata: expected FileMetadata, got null/);
    failed(await call(A.RegionService, 'Heartbeat', { region_id: 'r1', status: { state: 'HEALTHY', load_level: 2 } }), grpc.status.INVALID_ARGUMENT, /status\.load_level: expected number between 0 and 1, got 2/);
    failed(await call(A.MetadataService, 'Get', { file_id: 'x'.repeat(500) }), grpc.status.INVALID_ARGUMENT, /^file_id: expected id/);
    failed(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('big', { r1: 1 }, { path: 'p'.repeat(2 * 1024 * 1024) }) }), grpc.status.RESOURCE_EXHAUSTED);
  });

  test('DEADLINE_EXCEEDED when the view cannot reach a sequence in time', async () => {
    failed(await call(B.MetadataService, 'Get', { file_id: 'f1', read: { min_sequence: '999999999' } }, 400), grpc.status.DEADLINE_EXCEEDED);
  });

  test('UNAVAILABLE while NATS is down, never an acknowledged write; health follows', async () => {
    const health = healthClient(a.api.port);
    await stack.nats.kill();
    try {
      await waitFor(async () => (await call<{ status: string }>(health, 'Check', { service: '' })).value?.status === 'NOT_SERVING', { what: 'NOT_SERVING', timeoutMs: 15_000 });
      failed(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('during-outage', { r1: 1 }) }, 3000), grpc.status.UNAVAILABLE, /not stored/);
    } finally {
      await stack.nats.restart();
    }
    await waitFor(async () => (await call<{ status: string }>(health, 'Check', { service: '' })).value?.status === 'SERVING', { what: 'SERVING again', timeoutMs: 15_000 });
    health.close();
    const registered = ok(await call<WriteReply>(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta('after-outage', { r1: 1 }), write: waitWrite }));
    assert.equal(registered.write.view_reached, true);
    failed(await call(B.MetadataService, 'Get', { file_id: 'during-outage' }), grpc.status.NOT_FOUND);
  });
});
