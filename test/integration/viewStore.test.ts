// The view store on a real etcd: whatever a batch's size, the checkpoint is written by the last
// transaction of the batch, after every view key of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ViewStore, type Fence } from '../../src/etcd/viewStore.js';
import { startStack } from '../support/stack.js';

test('every batch size: the checkpoint commits last, and compare-and-set refuses a replayed batch', async () => {
  const stack = await startStack();
  try {
    const lease = stack.etcdClient.lease(30);
    const key = '/jzse/election/projector/test-leader';
    await lease.put(key).value('test');
    const kv = (await stack.etcdClient.get(key).exec()).kvs[0];
    assert.ok(kv);
    const fence: Fence = { key, createRevision: kv.create_revision, electionPrefix: '/jzse/election/projector/' };
    const store = new ViewStore(stack.etcdClient, '/jzse/view', { maxTxnOps: 10, maxTxnBytes: 1_000_000 }, '/jzse/fencing');
    let seq = 0;
    for (let size = 0; size <= 25; size++) {
      const writes = Array.from({ length: size }, (_, i) => ({ key: `/jzse/view/files/b${size}-k${i}`, value: `{"n":${i}}` }));
      assert.equal(await store.commit(writes, fence, seq, seq + 1), 'committed', `batch of ${size}`);
      seq += 1;
      const all = await stack.etcdClient.getAll().prefix(`/jzse/view/files/b${size}-`).exec();
      const checkpoint = (await stack.etcdClient.get('/jzse/view/checkpoint').exec()).kvs[0];
      assert.ok(checkpoint);
      for (const data of all.kvs) {
        assert.ok(BigInt(data.mod_revision) <= BigInt(checkpoint.mod_revision), `batch of ${size}: ${data.key.toString()} written after the checkpoint`);
      }
      assert.equal(all.kvs.length, size);
    }
    assert.equal(await store.commit([{ key: '/jzse/view/files/again', value: '{}' }], fence, seq - 1, seq), 'checkpoint-moved');
    assert.equal((await stack.etcdClient.get('/jzse/fencing').json() as { seq: number }).seq, seq);
    await lease.revoke();
  } finally {
    await stack.stop();
  }
});
