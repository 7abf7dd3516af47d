// Every rejection code of the domain's deciders reached through gRPC (status and the request's field
// in the message, nothing appended), and the fold's rejections listed by AuditService.ListRejections.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { REJECTION_CODES, type RejectionCode } from '../../projections/rejection.js';
import type { Coordinator } from '../../src/coordinator.js';
import { lastSequence } from '../../src/nats/read.js';
import { STATUS_OF_REJECTION } from '../../src/api/errors.js';
import { fileDeleted, fileRegistered, fileUpdated, regionHeartbeat, syncAcked } from '../support/events.js';
import { jsonLines, jzse } from '../support/cli.js';
import { call, connectClients, type Clients, type Reply } from '../support/grpcClient.js';
import { appenderFor } from '../support/publish.js';
import { startInProcess, startStack, type Stack } from '../support/stack.js';

const ts = (iso: string) => ({ seconds: String(Math.floor(Date.parse(iso) / 1000)), nanos: 0 });
const meta = (fileId: string, clock: Record<string, number>) => ({
  file_id: fileId, path: `/data/${fileId}`, size: '1024', checksum: `sha256:${fileId}`, modified_at: ts('2026-11-25T10:00:00Z'),
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes: {},
});
const region = (id: string) => ({
  id, name: `Region ${id}`, endpoint: `${id}.example:7000`, location: { latitude: 1, longitude: 2, name: id }, capacity: { total_bytes: '1000' },
});
const wait = { wait_for_view: true };

const ok = <T>(reply: Reply<T>): T => {
  assert.ok(reply.ok, `expected OK, got ${reply.error?.code} ${reply.error?.details}`);
  return reply.value;
};

type Rejection = { sequence: string; event_id: string; region: string; code: string; field: string; reason: string };

describe('rejections', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let C: Clients;
  // Each code, the call that reaches it, and the request field its message must name.
  const reached = new Map<RejectionCode, { status: grpc.status; message: string }>();

  /** The call is refused with the code's status, names `field`, and appends nothing. */
  const refused = async (code: RejectionCode, field: string, reply: Promise<Reply<unknown>>): Promise<void> => {
    const before = await lastSequence(stack.client.jsm, stack.config.nats.stream);
    const r = await reply;
    assert.equal(r.ok, false, `${code}: expected a refusal`);
    assert.equal(r.error?.code, grpc.status[STATUS_OF_REJECTION[code]], `${code}: ${r.error?.code} ${r.error?.details}`);
    assert.ok(r.error?.details.startsWith(`${field}: `), `${code}: message ${JSON.stringify(r.error?.details)} names ${field}`);
    assert.equal(await lastSequence(stack.client.jsm, stack.config.nats.stream), before, `${code}: nothing appended`);
    reached.set(code, { status: r.error.code, message: r.error.details });
  };

  before(async () => {
    stack = await startStack({ JZSE_CONFLICT_DEFAULT_STRATEGY: 'manual' });
    coordinator = await startInProcess(stack, 'a');
    C = connectClients(coordinator.api.port);
    for (const id of ['r1', 'r2']) ok(await call(C.RegionService, 'Register', { region: region(id), write: wait }));
    ok(await call(C.MetadataService, 'Register', { region_id: 'r1', metadata: meta('f1', { r1: 1 }), write: wait }));
  });
  after(async () => {
    C.close();
    await coordinator.stop();
    await stack.stop();
  });

  test('each rejection code through gRPC: its status, the request field, nothing appended', async () => {
    await refused('not_found', 'metadata.file_id', call(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('nope', { r1: 1 }) }));
    await refused('not_found', 'region_id', call(C.RegionService, 'Heartbeat', { region_id: 'r9', status: { state: 'HEALTHY', sync_lag: '0', storage_used: '0', load_level: 0 } }));
    await refused('already_exists', 'metadata.file_id', call(C.MetadataService, 'Register', { region_id: 'r2', metadata: meta('f1', { r2: 1 }) }));
    ok(await call(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 2 }), write: wait }));
    await refused('stale', 'metadata.vector_clock', call(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 1 }) }));
    await refused('invalid', 'metadata.vector_clock.r1', call(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 0, r2: 3 }) }));

    // A manual conflict, then the file moves on: keeping a side is a `conflict`; once resolved, a second resolve is `failed_precondition`.
    const conflict = ok(await call<{ outcome: string; conflict_id: string }>(C.MetadataService, 'Update', { region_id: 'r2', metadata: meta('f1', { r1: 1, r2: 1 }), write: { ...wait, event_id: 'c-1' } }));
    assert.equal(conflict.outcome, 'CONFLICT');
    ok(await call(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 3 }), write: wait }));
    await refused('conflict', 'keep', call(C.ConflictService, 'Resolve', { conflict_id: 'c-1', operator: 'ops', keep: 'local' }));
    ok(await call(C.ConflictService, 'Resolve', { conflict_id: 'c-1', operator: 'ops', merged: meta('f1', { r1: 3, r2: 1 }), write: wait }));
    await refused('failed_precondition', 'conflict_id', call(C.ConflictService, 'Resolve', { conflict_id: 'c-1', operator: 'ops', keep: 'remote' }));

    assert.deepEqual([...reached.keys()].sort(), [...REJECTION_CODES].sort(), 'every code reached');
  });

  test('Update without wait_for_view answers ACCEPTED; with it, the fold\'s verdict', async () => {
    const accepted = ok(await call<{ outcome: string; write: { sequence: string } }>(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 4, r2: 1 }) }));
    assert.equal(accepted.outcome, 'ACCEPTED');
    const applied = ok(await call<{ outcome: string }>(C.MetadataService, 'Update', { region_id: 'r1', metadata: meta('f1', { r1: 5, r2: 1 }), write: wait }));
    assert.equal(applied.outcome, 'APPLIED');
  });

  test('events straight on NATS that the fold refuses are listed by ListRejections, filtered by region, code and time', async () => {
    const appender = appenderFor(stack);
    const t0 = new Date().toISOString();
    await appender.append(fileUpdated({ id: 'n-unknown-file', region: 'r1', file: { fileId: 'ghost' }, clock: { r1: 1 } }));
    await appender.append(fileRegistered({ id: 'n-dup', region: 'r2', file: { fileId: 'f1' }, clock: { r2: 9 } }));
    const last = await appender.append(regionHeartbeat({ id: 'n-hb', region: 'r7' }));
    const read = { min_sequence: String(last.seq) };
    const all = ok(await call<{ rejections: Rejection[] }>(C.AuditService, 'ListRejections', { read, page_size: 1000 }));
    const byId = new Map(all.rejections.map((r) => [r.event_id, r]));
    assert.deepEqual([byId.get('n-unknown-file')?.code, byId.get('n-unknown-file')?.field], ['not_found', 'fileId']);
    assert.deepEqual([byId.get('n-dup')?.code, byId.get('n-dup')?.region], ['already_exists', 'r2']);
    assert.deepEqual([byId.get('n-hb')?.code, byId.get('n-hb')?.field, byId.get('n-hb')?.region], ['not_found', 'region', 'r7']);

    const ofR2 = ok(await call<{ rejections: Rejection[] }>(C.AuditService, 'ListRejections', { region: 'r2', read, page_size: 1000 }));
    assert.deepEqual(ofR2.rejections.map((r) => r.event_id), ['n-dup']);
    const notFound = ok(await call<{ rejections: Rejection[] }>(C.AuditService, 'ListRejections', { code: 'not_found', stored_after: t0, read, page_size: 1000 }));
    assert.deepEqual(notFound.rejections.map((r) => r.event_id).sort(), ['n-hb', 'n-unknown-file']);
    const none = ok(await call<{ rejections: Rejection[] }>(C.AuditService, 'ListRejections', { stored_before: t0, code: 'already_exists', read, page_size: 1000 }));
    assert.deepEqual(none.rejections, []);

    const bad = await call(C.AuditService, 'ListRejections', { code: 'nonsense', stored_after: 'yesterday' });
    assert.equal(bad.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(bad.error?.details ?? '', /code: .*stored_after: /);
  });

  test('jzse rejections lists the same events, filtered the same way; a bad code is a usage error', async () => {
    const byRegion = await jzse(stack, ['rejections', '--region', 'r2', '--json']);
    assert.equal(byRegion.code, 0, byRegion.stderr);
    const rows = jsonLines(byRegion.stdout) as Array<{ eventId: string; code: string; region: string }>;
    assert.deepEqual(rows.map((r) => [r.eventId, r.code, r.region]), [['n-dup', 'already_exists', 'r2']]);
    const table = await jzse(stack, ['rejections', '--code', 'not_found', '--format', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^2 of \d+ rejected events match/);
    assert.match(table.stdout, /n-hb .*not_found/);
    const bad = await jzse(stack, ['rejections', '--code', 'bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--code: "bogus" is not one of not_found/);
  });

  test('on NATS: re-registering a deleted file with a clock not after the delete is stale and names both clocks; an older ack moves the copy\'s clock forward', async () => {
    const appender = appenderFor(stack);
    const at = new Date().toISOString();
    await appender.append(fileRegistered({ id: 'g-reg', region: 'r1', at, clock: { r1: 1 }, file: { fileId: 'g1' } }));
    await appender.append(fileDeleted({ id: 'g-del', region: 'r1', at, clock: { r1: 2 }, fileId: 'g1' }));
    const reborn = await appender.append(fileRegistered({ id: 'g-reborn', region: 'r1', at, clock: { r1: 1 }, file: { fileId: 'g1' } }));
    const stale = ok(await call<{ rejections: Rejection[] }>(C.AuditService, 'ListRejections', { code: 'stale', read: { min_sequence: String(reborn.seq) }, page_size: 1000 }));
    const entry = stale.rejections.find((r) => r.event_id === 'g-reborn');
    assert.equal(entry?.field, 'clock');
    assert.match(entry?.reason ?? '', /^clock: \{"r1":1\} is not after the clock of g1's delete \{"r1":2\}/);

    // h1 at versions 1, 2, 3 (r1); r2 acks version 2 after version 3 exists: its copy is known to hold 2.
    await appender.append(fileRegistered({ id: 'h-1', region: 'r1', at, clock: { r1: 1 }, file: { fileId: 'h1' } }));
    await appender.append(syncAcked({ id: 'h-ack-1', region: 'r2', at, files: [{ fileId: 'h1', clock: { r1: 1 } }] }));
    await appender.append(fileUpdated({ id: 'h-2', region: 'r1', at, clock: { r1: 2 }, file: { fileId: 'h1' } }));
    await appender.append(fileUpdated({ id: 'h-3', region: 'r1', at, clock: { r1: 3 }, file: { fileId: 'h1' } }));
    const acked = await appender.append(syncAcked({ id: 'h-ack-2', region: 'r2', at, files: [{ fileId: 'h1', clock: { r1: 2 } }] }));
    const where = ok(await call<{ locations: Array<{ region_id: string; state: string; vector_clock: Record<string, string> }> }>(
      C.MetadataService, 'GetLocations', { file_id: 'h1', read: { min_sequence: String(acked.seq) } }));
    const r2copy = where.locations.find((l) => l.region_id === 'r2');
    assert.deepEqual([r2copy?.state, r2copy?.vector_clock], ['STALE', { r1: '2' }]);
  });
});
