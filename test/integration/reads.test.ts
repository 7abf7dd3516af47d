// Point reads served from a committed view in memory (a follower's warm view, the leader's last
// batch) and from etcd at the checkpoint's revision: equal to what etcd holds, and read-your-writes
// across instances.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canonicalJson, recordKey } from '../../projections/layout.js';
import type { FileRecord } from '../../projections/view.js';
import { globalFile, location } from '../../src/api/present.js';
import { viewPrefix } from '../../src/config/derived.js';
import { type Coordinator } from '../../src/coordinator.js';
import { waitFor } from '../../src/util/waitFor.js';
import { call, connectClients, type Clients, type Reply } from '../support/grpcClient.js';
import { asObject, expectedEntries, leaderOf, readEtcdView, startInProcess, startStack, waitForCaughtUp, type Stack } from '../support/stack.js';

const ts = { seconds: '1795600800', nanos: 0 };
const meta = (fileId: string, clock: Record<string, number>, size = 1024) => ({
  file_id: fileId, path: `/data/${fileId}`, size: String(size), checksum: `sha256:${fileId}`, modified_at: ts,
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes: { owner: 'ann' },
});
const region = (id: string) => ({ id, name: id, endpoint: `${id}:1`, location: { latitude: 0, longitude: 0, name: '' }, capacity: { total_bytes: '1' } });

const ok = <T>(reply: Reply<T>): T => {
  assert.ok(reply.ok, `expected OK, got ${reply.error?.code} ${reply.error?.details}`);
  return reply.value;
};

type WriteReply = { write: { sequence: string } };
type GetReply = { file: ReturnType<typeof globalFile>; view_sequence: string };

/** etcd's count of range requests served (reads inside transactions included). */
const etcdRanges = async (stack: Stack): Promise<number> => {
  const text = await (await fetch(`${stack.etcd.endpoint}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return Number(/^etcd_mvcc_range_total ([0-9.e+]+)$/m.exec(text)?.[1] ?? Number.NaN);
};

describe('point reads from memory and from etcd', () => {
  let stack: Stack;
  let a: Coordinator;
  let b: Coordinator;
  let A: Clients;
  let B: Clients;
  const ids = Array.from({ length: 40 }, (_, i) => `file-${String(i).padStart(3, '0')}`);

  before(async () => {
    stack = await startStack();
    a = await startInProcess(stack, 'a');
    await waitFor(async () => (await leaderOf(stack)) === 'a', { what: 'a elected' });
    b = await startInProcess(stack, 'b');
    A = connectClients(a.api.port);
    B = connectClients(b.api.port);
    for (const id of ['r1', 'r2']) ok(await call(A.RegionService, 'Register', { region: region(id) }));
    for (const id of ids) ok(await call(A.MetadataService, 'Register', { region_id: 'r1', metadata: meta(id, { r1: 1 }) }));
    for (const id of ids.slice(0, 10)) ok(await call(A.MetadataService, 'Update', { region_id: 'r2', metadata: meta(id, { r1: 1, r2: 1 }, 2048) }));
  });
  after(async () => {
    A.close();
    B.close();
    await b.stop();
    await a.stop();
    await stack.stop();
  });

  test('a follower serves Get, GetLocations and BatchGet from its warm view, equal to the records in etcd, without reading etcd', async () => {
    const seq = await waitForCaughtUp(stack);
    const warm = await waitFor(() => { const v = b.committedView(); return v !== undefined && v.seq >= seq && b.reader.latest >= seq ? v : undefined; }, { what: "b's warm view at the checkpoint" });
    assert.equal(b.isLeader(), false);
    const etcd = await readEtcdView(stack);
    assert.deepEqual(asObject(expectedEntries(stack, warm)), asObject(etcd), 'the warm view is the etcd view byte for byte');

    const fromEtcd = (id: string) => JSON.parse(etcd.get(recordKey(viewPrefix(stack.config), 'files', id))!) as FileRecord;
    const rangesBefore = await etcdRanges(stack);
    for (const id of ids) {
      const got = ok(await call<GetReply>(B.MetadataService, 'Get', { file_id: id }));
      assert.deepEqual(got, { file: globalFile(fromEtcd(id)), view_sequence: String(warm.seq) });
      const locations = ok(await call(B.MetadataService, 'GetLocations', { file_id: id }));
      assert.deepEqual(locations, { locations: fromEtcd(id).locations.map(location), view_sequence: String(warm.seq) });
    }
    const batch = ok(await call<{ files: unknown[]; missing: string[]; view_sequence: string }>(B.MetadataService, 'BatchGet', { file_ids: [...ids, 'nope'] }));
    assert.deepEqual(batch, { files: ids.map((id) => globalFile(fromEtcd(id))), missing: ['nope'], view_sequence: String(warm.seq) });
    // 81 reads from etcd would be 81 or more ranges; the instances' health probes make a handful.
    assert.ok((await etcdRanges(stack)) - rangesBefore < ids.length / 2, 'served from memory');
  });

  test('read-your-writes across the two instances, through memory and through etcd', async () => {
    for (let i = 0; i < 12; i++) {
      const [writer, reader] = i % 2 === 0 ? [A, B] : [B, A];
      const id = ids[20 + i]!;
      const size = 4096 + i;
      const written = ok(await call<WriteReply>(writer.MetadataService, 'Update', { region_id: 'r2', metadata: meta(id, { r1: 1, r2: 2 + i }, size) }));
      const read = { min_sequence: written.write.sequence };
      const got = ok(await call<GetReply>(reader.MetadataService, 'Get', { file_id: id, read }));
      assert.equal(got.file.metadata.size, String(size));
      assert.ok(Number(got.view_sequence) >= Number(written.write.sequence));
      const batch = ok(await call<{ files: Array<{ metadata: { size: string } }>; view_sequence: string }>(reader.MetadataService, 'BatchGet', { file_ids: [id], read }));
      assert.equal(batch.files[0]?.metadata.size, String(size));
      assert.ok(Number(batch.view_sequence) >= Number(written.write.sequence));
    }
  });

  test('an etcd snapshot reads at its checkpoint: many keys in transactions, and after a compaction', async () => {
    const seq = await waitForCaughtUp(stack);
    await waitFor(() => b.reader.latest >= seq, { what: "b's reader at the checkpoint" });
    const many = [...ids, ...Array.from({ length: 300 }, (_, i) => `absent-${i}`)];
    const snapshot = b.reader.snapshot();
    assert.equal(snapshot.seq, seq);
    const view = b.committedView()!;
    const found = await snapshot.getMany('files', many);
    assert.deepEqual([...found.keys()], ids);
    for (const [id, record] of found) assert.equal(canonicalJson(record), canonicalJson(view.files.get(id)));

    // A later write does not show in a snapshot taken before it.
    const written = ok(await call<WriteReply>(A.MetadataService, 'Update', { region_id: 'r1', metadata: meta(ids[0]!, { r1: 5, r2: 1 }, 1) }));
    await waitFor(() => b.reader.latest >= Number(written.write.sequence), { what: 'the write committed' });
    assert.equal((await snapshot.get('files', ids[0]!))?.size, 2048);
    assert.equal((await b.reader.snapshot().get('files', ids[0]!))?.size, 1);

    // The checkpoint's revision compacted away: the snapshot re-pins to a newer revision.
    const revision = (await stack.etcdClient.kv.range({ key: Buffer.from('nothing') })).header.revision;
    await stack.etcdClient.kv.compact({ revision, physical: true });
    const after = b.reader.snapshot();
    assert.equal((await after.get('files', ids[0]!))?.size, 1);
    assert.equal(after.seq, await b.reader.checkpoint());
  });
});
