// End to end on real servers: regions publish, the leader projects, etcd holds exactly the fold.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { changesSubject } from '../../streams/subjects.js';
import { publishWorkload } from '../support/publish.js';
import { publishedIds } from '../support/streamIds.js';
import {
  asObject, checkpointOf, foldStream, readEtcdView, startInProcess, startStack, viewAndFold,
  streamLastSeq, waitForCaughtUp, type Stack,
} from '../support/stack.js';
import type { Coordinator } from '../../src/coordinator.js';

describe('projection of 10,000 change events from 3 regions', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  before(async () => {
    stack = await startStack();
    coordinator = await startInProcess(stack, 'c1');
  });
  after(async () => {
    await coordinator.stop();
    await stack.stop();
  });

  test('the view in etcd equals the fold of the stream and the checkpoint its last sequence', async () => {
    const acked = await publishWorkload(stack, ['r1', 'r2', 'r3'], 10_000);
    assert.ok(acked.length >= 10_003);
    const last = await waitForCaughtUp(stack);
    const stored = await publishedIds(stack);
    assert.equal(stored.size, acked.length, 'every publish stored, nothing else from regions');
    for (const { event } of acked) assert.equal(stored.get(event.id), 1, `${event.id} stored once`);
    assert.equal(new Set(acked.map((a) => a.ack.seq)).size, acked.length, 'distinct sequences');
    assert.ok((await checkpointOf(stack)) >= last);
    const { actual, expected, seq } = await viewAndFold(stack);
    assert.deepStrictEqual(asObject(actual), asObject(expected));
    const folded = await foldStream(stack, seq);

    // The workload is only a test if it exercised the interesting paths.
    const conflicts = [...folded.conflicts.values()];
    assert.ok(conflicts.length > 50, `concurrent updates recorded as conflicts (${conflicts.length})`);
    assert.ok(conflicts.every((c) => c.local.eventId !== c.remote.eventId && c.status === 'resolved'));
    assert.ok([...folded.files.values()].some((f) => f.deleted), 'some files deleted');
    assert.ok([...folded.files.values()].some((f) => f.versions > 3), 'some files updated repeatedly');
    assert.ok(folded.pending.size > 0, 'pending changes for regions');
  });

  test('garbage and half-valid JSON become rejected entries with a reason, and projection goes on', async () => {
    const nc = stack.client.nc;
    const js = stack.client.js;
    const before = await streamLastSeq(stack);
    const garbage = await js.publish(changesSubject('r1'), new Uint8Array([0xff, 0xfe, 0x00, 0x41]), { msgID: 'garbage-1' });
    const truncated = await js.publish(changesSubject('r1'), new TextEncoder().encode('{"schema":1,"id":"half-1","type":"file.updated",'), { msgID: 'garbage-2' });
    await js.publish(
      changesSubject('r1'),
      new TextEncoder().encode(JSON.stringify({ schema: 1, id: 'half-2', type: 'file.updated', at: '2026-11-25T00:00:00Z', region: 'r1', clock: { r1: -3 }, file: { fileId: 'x', path: '/x', size: -1, checksum: '', modifiedAt: 'yesterday' } })),
      { msgID: 'half-2' },
    );
    await js.publish(
      changesSubject('r2'),
      new TextEncoder().encode(JSON.stringify({ schema: 1, id: 'wrong-subject', type: 'region.heartbeat', at: '2026-11-25T00:00:00Z', region: 'r2', status: { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0 } })),
      { msgID: 'wrong-subject' },
    );
    const register = {
      schema: 1, id: 'after-garbage', type: 'file.registered', at: '2026-11-25T12:00:00Z', region: 'r1', clock: { r1: 1 },
      file: { fileId: 'after-garbage-file', path: '/after', size: 1, checksum: 'c', modifiedAt: '2026-11-25T12:00:00Z' },
    };
    await js.publish(changesSubject('r1'), new TextEncoder().encode(JSON.stringify(register)), { msgID: register.id });
    await nc.flush();
    const last = await waitForCaughtUp(stack);
    assert.ok(last >= before + 5);

    const view = await readEtcdView(stack);
    const rejected = (key: string) => {
      const value = view.get(`/jzse/view/rejected/${key}`);
      assert.ok(value, `rejected entry ${key}`);
      return JSON.parse(value) as { reason: string; seq: number; subject: string };
    };
    assert.match(rejected(`seq-${garbage.seq}`).reason, /not valid UTF-8/);
    assert.match(rejected(`seq-${truncated.seq}`).reason, /not valid JSON/);
    const half = rejected('half-2');
    assert.match(half.reason, /clock\.r1: expected non-negative integer, got -3/);
    assert.match(half.reason, /file\.size: expected non-negative integer, got -1/);
    assert.match(half.reason, /file\.modifiedAt: expected RFC 3339 timestamp/);
    assert.equal(half.subject, 'jzse.changes.r1');
    assert.match(rejected('wrong-subject').reason, /must be published on jzse\.regions\.status/);
    assert.ok(view.has('/jzse/view/files/after-garbage-file'), 'the valid event after the garbage was applied');
    assert.ok((JSON.parse(view.get('/jzse/view/checkpoint') ?? '{"seq":0}') as { seq: number }).seq >= last);
    const consistent = await viewAndFold(stack);
    assert.deepStrictEqual(asObject(consistent.actual), asObject(consistent.expected));
  });
});
