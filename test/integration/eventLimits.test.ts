// The event size limit as docs/events.md (rule 10) states it, on real NATS and etcd: an event over
// 262,144 bytes is stored by JetStream and rejected by the fold under its id, with its size; one
// over the server's max_payload cannot be published at all; and an event that cannot be decoded is
// kept under its id whenever that id is readable and valid (else under seq-<n>).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_EVENT_BYTES } from '../../streams/decode.js';
import { changesSubject } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import { waitFor } from '../../src/util/waitFor.js';
import { encode, fileRegistered, fileUpdated, regionRegistered } from '../support/events.js';
import { appenderFor } from '../support/publish.js';
import { startInProcess, startStack, streamLastSeq, type Stack } from '../support/stack.js';

/** The event's JSON followed by spaces (still valid JSON) up to exactly `size` bytes. */
const padded = (event: object, size: number): Uint8Array => {
  const body = encode(event);
  assert.ok(body.byteLength <= size);
  const bytes = new Uint8Array(size).fill(0x20);
  bytes.set(body, 0);
  return bytes;
};

describe('event size limit and rejected ids', () => {
  let stack: Stack;
  let leader: Coordinator;
  const subject = changesSubject('r1');

  const publish = async (bytes: Uint8Array, msgID: string): Promise<number> => (await stack.client.js.publish(subject, bytes, { msgID })).seq;
  const folded = (seq: number) => waitFor(() => {
    const v = leader.committedView();
    return v !== undefined && v.seq >= seq ? v : undefined;
  }, { what: `the view to reach ${seq}` });

  before(async () => {
    stack = await startStack();
    leader = await startInProcess(stack, 'c1');
    await appenderFor(stack).append(regionRegistered({ region: 'r1', at: new Date().toISOString() }));
  });
  after(async () => {
    await leader.stop();
    await stack.stop();
  });

  test('an event of exactly 262,144 bytes is applied', async () => {
    const event = fileRegistered({ id: 'at-limit', file: { fileId: 'f-limit' }, at: new Date().toISOString() });
    const view = await folded(await publish(padded(event, MAX_EVENT_BYTES), event.id));
    assert.equal(view.rejected.get('at-limit'), undefined);
    assert.ok(view.files.has('f-limit'));
  });

  test('an event of 300,000 bytes is stored, then rejected under its id with its size', async () => {
    const event = fileUpdated({ id: 'big-300k', file: { fileId: 'f-limit' }, clock: { r1: 2 }, at: new Date().toISOString() });
    const seq = await publish(padded(event, 300_000), event.id);
    const view = await folded(seq);
    const rejected = view.rejected.get('big-300k');
    assert.equal(rejected?.reason, 'event is 300000 bytes, more than 262144');
    assert.equal(rejected?.seq, seq);
    assert.equal(rejected?.eventId, 'big-300k');
  });

  test('oversized bytes that are not JSON, and ids outside the id rule, are kept under seq-<n>', async () => {
    const garbage = await publish(new Uint8Array(300_000).fill(0x78), 'garbage-1');
    const badId = await publish(encode({ ...fileUpdated({ clock: { r1: 3 } }), id: 'a/b', schema: 2 }), 'bad-id-1');
    const view = await folded(badId);
    assert.equal(view.rejected.get(`seq-${garbage}`)?.reason, 'event is 300000 bytes, more than 262144');
    assert.equal(view.rejected.get(`seq-${badId}`)?.reason, 'schema: expected 1, got 2');
  });

  test('an undecodable event with a valid id is kept under that id', async () => {
    const seq = await publish(encode({ ...fileUpdated({ id: 'schema-2', clock: { r1: 4 } }), schema: 2 }), 'schema-2');
    const view = await folded(seq);
    assert.equal(view.rejected.get('schema-2')?.reason, 'schema: expected 1, got 2');
  });

  test('an event over the server\'s max_payload (1 MiB) cannot be published: the client refuses it, nothing is stored', async () => {
    const before = await streamLastSeq(stack);
    const event = fileUpdated({ id: 'over-payload', clock: { r1: 5 } });
    await assert.rejects(publish(padded(event, 1024 * 1024 + 1), event.id), /max_payload size exceeded/);
    assert.equal(await streamLastSeq(stack), before);
  });
});
