// Conflict strategies on real servers, four regions: the same concurrent writes under LWW, merge,
// manual and fork paths; the records, the files, the notices on jzse.conflicts, and operator
// resolution through the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { CONFLICTS } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import type { ConflictNotice } from '../../src/sync/conflictNotices.js';
import { waitFor } from '../../src/util/waitFor.js';
import { call, connectClients, type Clients } from '../support/grpcClient.js';
import { appenderFor } from '../support/publish.js';
import { asObject, startInProcess, startStack, viewAndFold, type Stack } from '../support/stack.js';

const ts = (s: number) => ({ seconds: String(Math.floor(Date.now() / 1000) - 100 + s), nanos: 0 });
const meta = (fileId: string, path: string, clock: Record<string, number>, checksum: string, attributes: Record<string, string>) => ({
  file_id: fileId, path, size: '1', checksum, modified_at: ts(0),
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes,
});
type File = { metadata: { checksum: string; attributes: Record<string, string>; vector_clock: Record<string, string> }; locations: Array<{ region_id: string; state: string }> };
type Conflict = { conflict_id: string; strategy: string; status: string; winner: string };

describe('conflict strategies on real servers', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let api: Clients;
  const notices: ConflictNotice[] = [];
  const stop = new AbortController();
  let reader: Promise<void>;

  before(async () => {
    stack = await startStack();
    coordinator = await startInProcess(stack, 'c1');
    api = connectClients(coordinator.api.port);
    for (const id of ['r1', 'r2', 'r3', 'r4']) {
      const region = { id, name: id, endpoint: `${id}:1`, location: { latitude: 0, longitude: 0, name: '' }, capacity: { total_bytes: '1' } };
      assert.ok((await call(api.RegionService, 'Register', { region, write: { wait_for_view: true } })).ok);
    }
    const appender = appenderFor(stack);
    for (const [pattern, conflict] of [['/merge', 'merge'], ['/manual', 'manual'], ['/fork', 'fork']] as const) {
      await appender.append({ schema: 1, id: `policy-${conflict}`, type: 'policy.set', at: new Date().toISOString(), operator: 'ops', pattern, conflict });
    }
    await stack.client.jsm.consumers.add(OUTBOUND_STREAM, { durable_name: 'auditor', filter_subject: CONFLICTS, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await stack.client.js.consumers.get(OUTBOUND_STREAM, 'auditor');
    reader = (async () => {
      const messages = await consumer.consume({ max_messages: 100 });
      stop.signal.addEventListener('abort', () => void messages.close(), { once: true });
      for await (const m of messages) {
        notices.push(JSON.parse(new TextDecoder().decode(m.data)) as ConflictNotice);
        m.ack();
      }
    })();
  });
  after(async () => {
    stop.abort();
    await reader;
    api.close();
    await coordinator.stop();
    await stack.stop();
  });

  /** r1 writes the file, then r1 and r2 write concurrently (r2 later, so r2 is the last writer). */
  const race = async (dir: string) => {
    const id = `${dir.slice(1)}-file`;
    const path = `${dir}/doc.txt`;
    const write = (region: string, clock: Record<string, number>, checksum: string, attributes: Record<string, string>, at: number) =>
      call<{ outcome: string; conflict_id: string; write: { sequence: string } }>(api.MetadataService, region === 'r1' && checksum === 'base' ? 'Register' : 'Update',
        { region_id: region, metadata: { ...meta(id, path, clock, checksum, attributes), modified_at: ts(at) }, write: { event_id: `${id}-${checksum}`, wait_for_view: true, at: ts(at) } });
    assert.ok((await write('r1', { r1: 1 }, 'base', { owner: 'ann' }, 1)).ok);
    assert.equal((await write('r1', { r1: 2 }, 'local', { owner: 'ann', color: 'red' }, 2)).value?.outcome, 'APPLIED');
    const remote = await write('r2', { r1: 1, r2: 1 }, 'remote', { owner: 'bob', size: 'big' }, 3);
    assert.equal(remote.value?.outcome, 'CONFLICT');
    const file = (await call<{ file: File }>(api.MetadataService, 'Get', { file_id: id })).value?.file;
    const conflicts = (await call<{ conflicts: Conflict[] }>(api.ConflictService, 'ListConflicts', { file_id: id })).value?.conflicts ?? [];
    assert.ok(file);
    return { id, file, conflicts, conflictId: remote.value?.conflict_id ?? '' };
  };

  test('last-writer-wins (default): the later writer wins, clocks merge, every region must resync', async () => {
    const { file, conflicts } = await race('/lww');
    assert.equal(file.metadata.checksum, 'remote');
    assert.deepEqual(file.metadata.vector_clock, { r1: '2', r2: '1' });
    assert.deepEqual(conflicts.map((c) => [c.strategy, c.status, c.winner]), [['last_writer_wins', 'resolved', 'remote']]);
    assert.deepEqual(file.locations.map((l) => [l.region_id, l.state]), [['r1', 'STALE'], ['r2', 'STALE']]);
  });

  test('merge: attributes united, the later writer keeps a shared key and the content', async () => {
    const { file, conflicts } = await race('/merge');
    assert.deepEqual(file.metadata.attributes, { owner: 'bob', color: 'red', size: 'big' });
    assert.equal(file.metadata.checksum, 'remote');
    assert.deepEqual(conflicts.map((c) => [c.strategy, c.status, c.winner]), [['merge', 'resolved', 'merged']]);
  });

  test('fork: the loser is kept as a sync-conflict file at its region', async () => {
    const { file, id } = await race('/fork');
    assert.equal(file.metadata.checksum, 'remote');
    const conflicts = (await call<{ conflicts: Array<Conflict & { file_id: string }> }>(api.ConflictService, 'ListConflicts', { file_id: id })).value?.conflicts ?? [];
    assert.deepEqual(conflicts.map((c) => [c.strategy, c.winner]), [['fork', 'remote']]);
    const batch = await call<{ files: Array<{ metadata: { file_id: string; path: string; checksum: string } }> }>(api.MetadataService, 'BatchGet', { file_ids: [id] });
    assert.equal(batch.value?.files.length, 1);
    const view = (await viewAndFold(stack)).actual;
    const forks = [...view.keys()].filter((k) => k.includes(`/files/${encodeURIComponent('fork-file:c')}`));
    assert.equal(forks.length, 1, 'one fork file');
    const fork = JSON.parse(view.get(forks[0]!) ?? '{}') as { path: string; checksum: string; locations: Array<{ regionId: string; state: string }> };
    assert.match(fork.path, /^\/fork\/doc\.sync-conflict-\d{8}-\d{6}-r1\.txt$/);
    assert.equal(fork.checksum, 'local');
    assert.deepEqual(fork.locations.map((l) => [l.regionId, l.state]), [['r1', 'synced']]);
  });

  test('manual: the conflict stays open until an operator resolves it through the API', async () => {
    const { id, file, conflicts, conflictId } = await race('/manual');
    assert.equal(file.metadata.checksum, 'local', 'content unchanged while open');
    assert.deepEqual(conflicts.map((c) => [c.conflict_id, c.strategy, c.status]), [[conflictId, 'manual', 'open']]);
    const open = await call<{ conflicts: Conflict[] }>(api.ConflictService, 'ListConflicts', { status: 'open' });
    assert.deepEqual(open.value?.conflicts.map((c) => c.conflict_id), [conflictId]);
    const resolved = await call(api.ConflictService, 'Resolve', { conflict_id: conflictId, operator: 'alice', keep: 'remote', write: { wait_for_view: true } });
    assert.ok(resolved.ok, resolved.error?.details);
    const after = (await call<{ file: File }>(api.MetadataService, 'Get', { file_id: id })).value?.file;
    assert.equal(after?.metadata.checksum, 'remote');
    const listed = (await call<{ conflicts: Conflict[] }>(api.ConflictService, 'ListConflicts', { file_id: id })).value?.conflicts ?? [];
    assert.deepEqual(listed.map((c) => [c.status, c.winner]), [['resolved', 'remote']]);
  });

  test('every detection and resolution is announced on jzse.conflicts, and replay gives the same view', async () => {
    await waitFor(() => notices.filter((n) => n.conflict.fileId === 'manual-file').length >= 2, { what: 'manual detection and resolution notices' });
    const manual = notices.filter((n) => n.conflict.fileId === 'manual-file').map((n) => n.conflict.status);
    assert.deepEqual(manual, ['open', 'resolved']);
    for (const f of ['lww-file', 'merge-file', 'fork-file']) {
      await waitFor(() => notices.some((n) => n.conflict.fileId === f && n.conflict.status === 'resolved'), { what: `notice for ${f}` });
    }
    const { actual, expected } = await viewAndFold(stack);
    assert.deepStrictEqual(asObject(actual), asObject(expected));
  });
});
