// Crashes and fencing on real servers: a projector killed mid-batch, nats-server killed mid-ingest,
// and deposed or losing candidates trying to write.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ViewStore } from '../../src/etcd/viewStore.js';
import { viewPrefix } from '../../src/config/derived.js';
import { waitFor } from '../../src/util/waitFor.js';
import { publishWorkload } from '../support/publish.js';
import { publishedIds } from '../support/streamIds.js';
import {
  asObject, checkpointOf, readEtcdView, spawnCoordinator, startInProcess, startStack, viewAndFold,
  waitForCaughtUp, type Stack,
} from '../support/stack.js';

const keysPastCheckpoint = async (stack: Stack): Promise<number> => {
  const prefix = viewPrefix(stack.config);
  const checkpoint = await stack.etcdClient.get(`${prefix}/checkpoint`).exec();
  const revision = checkpoint.kvs[0]?.mod_revision ?? '0';
  const all = await stack.etcdClient.getAll().prefix(`${prefix}/`).exec();
  return all.kvs.filter((kv) => BigInt(kv.mod_revision) > BigInt(revision)).length;
};

const assertViewIsFold = async (stack: Stack): Promise<void> => {
  await waitForCaughtUp(stack);
  const consistent = await viewAndFold(stack);
  const actual = asObject(consistent.actual);
  const expected = asObject(consistent.expected);
  if (process.env['JZSE_DEBUG_DIR'] !== undefined && JSON.stringify(actual) !== JSON.stringify(expected)) {
    writeFileSync(`${process.env['JZSE_DEBUG_DIR']}/actual.json`, JSON.stringify(actual, null, 1));
    writeFileSync(`${process.env['JZSE_DEBUG_DIR']}/expected.json`, JSON.stringify(expected, null, 1));
    cpSync(stack.dir, `${process.env['JZSE_DEBUG_DIR']}/stack`, { recursive: true });
  }
  assert.deepStrictEqual(actual, expected);
};

describe('failures', () => {
  test('a projector SIGKILLed in the middle of a batch is restarted: same view, no event applied twice', async () => {
    const stack = await startStack({ JZSE_PROJECTOR_MAX_TXN_OPS: '10', JZSE_PROJECTOR_BATCH_EVENTS: '400' });
    try {
      await publishWorkload(stack, ['r1', 'r2', 'r3'], 3000, { seed: 7 });
      // 1: dies inside the very first batch, before any checkpoint; 25: dies in a later batch.
      for (const pass of [1, 25]) {
        const before = await checkpointOf(stack);
        const child = spawnCoordinator(stack, `crashing-${pass}`, { JZSE_FAILPOINT: `view.commit.between-transactions=${pass}` });
        // The failpoint SIGKILLs it within the first batches of the 3,000 events.
        const code = await child.exit(120_000);
        assert.equal(code, null, 'killed by a signal');
        assert.equal(child.proc.signalCode, 'SIGKILL');
        const dirty = await keysPastCheckpoint(stack);
        if (dirty === 0) console.error(readFileSync(child.log, 'utf8').split('\n').slice(-15).join('\n'));
        assert.ok(dirty > 0, `the crash at pass ${pass} left a batch half-written past the checkpoint (checkpoint ${await checkpointOf(stack)})`);
        assert.ok((await checkpointOf(stack)) >= before);
      }
      const survivor = spawnCoordinator(stack, 'survivor');
      try {
        await assertViewIsFold(stack);
        assert.equal(await keysPastCheckpoint(stack), 0);
      } finally {
        survivor.proc.kill('SIGTERM');
        assert.equal(await survivor.exit(), 0, 'SIGTERM exits cleanly');
      }
    } finally {
      await stack.stop();
    }
  });

  test('nats-server SIGKILLed and restarted mid-ingest: every acknowledged event is in the stream once and in the view', async () => {
    const stack = await startStack();
    const coordinator = await startInProcess(stack, 'c1');
    try {
      let restart: Promise<void> | undefined;
      const acked = await publishWorkload(stack, ['r1', 'r2', 'r3'], 3000, {
        seed: 11,
        onAck: (count) => {
          if (count === 1000) restart = stack.nats.restart();
        },
      });
      assert.ok(restart, 'the restart happened during ingest');
      await restart;
      const ids = await publishedIds(stack);
      for (const { event, ack } of acked) {
        assert.equal(ids.get(event.id), 1, `acknowledged event ${event.id} (seq ${ack.seq}) stored exactly once`);
      }
      assert.equal(ids.size, acked.length, 'nothing stored that was not acknowledged');
      await assertViewIsFold(stack);
      const view = await readEtcdView(stack);
      for (const { event } of acked) {
        if (event.type === 'file.registered') assert.ok(view.has(`/jzse/view/files/${event.file.fileId}`), `${event.file.fileId} in the view`);
      }
    } finally {
      await coordinator.stop();
      await stack.stop();
    }
  });

  test('a candidate that lost the election, or a leader whose lease was revoked, cannot change a single key', async () => {
    const stack = await startStack();
    const leader = await startInProcess(stack, 'leader');
    try {
      await publishWorkload(stack, ['r1', 'r2'], 200, { seed: 3 });
      await waitFor(() => leader.isLeader(), { what: 'leader elected' });
      await waitForCaughtUp(stack);
      const prefix = stack.config.etcd.prefix;
      const electionPrefix = `${prefix}/election/projector/`;
      const store = new ViewStore(stack.etcdClient, viewPrefix(stack.config), { maxTxnOps: 100, maxTxnBytes: 1_000_000 });
      const fenceOf = async (key: string) => {
        const kv = (await stack.etcdClient.get(key).exec()).kvs[0];
        assert.ok(kv, `election key ${key}`);
        return { key, createRevision: kv.create_revision, electionPrefix };
      };
      const leaderKey = (await stack.etcdClient.getAll().prefix(electionPrefix).keys())[0];
      assert.ok(leaderKey);
      const leaderFence = await fenceOf(leaderKey);

      const loser = stack.etcdClient.namespace(`${prefix}/`).election('projector', 2).campaign('loser');
      const loserFence = await waitFor(async () => {
        const key = await loser.getCampaignKey();
        return (await stack.etcdClient.get(key).exec()).kvs.length === 1 ? fenceOf(key) : undefined;
      }, { what: 'losing candidate registered' });

      const checkpoint = await checkpointOf(stack);
      const evil = [
        { key: `${viewPrefix(stack.config)}/files/evil`, value: '{"evil":true}' },
        { key: `${viewPrefix(stack.config)}/regions/r1`, value: null },
      ];
      // The leader keeps writing (it projects its own sync records), so compare the targeted keys.
      const revisionNow = async () => {
        const evilKey = await stack.etcdClient.get(`${viewPrefix(stack.config)}/files/evil`).exec();
        const r1 = await stack.etcdClient.get(`${viewPrefix(stack.config)}/regions/r1`).exec();
        return JSON.stringify([evilKey.kvs.map((k) => k.mod_revision), r1.kvs.map((k) => k.mod_revision)]);
      };

      const beforeLoser = await revisionNow();
      assert.equal(await store.commit(evil, loserFence, checkpoint, checkpoint + 1), 'fenced');
      assert.equal(await store.repair(evil, loserFence), false);
      assert.equal(await revisionNow(), beforeLoser, 'the losing candidate changed nothing');
      await loser.resign();

      const leaseId = BigInt(leaderKey.slice(electionPrefix.length)).toString();
      await stack.etcdClient.leaseClient.leaseRevoke({ ID: leaseId });
      await waitFor(async () => (await stack.etcdClient.get(leaderKey).exec()).kvs.length === 0, { what: 'lease revoked' });
      const beforeDeposed = await revisionNow();
      assert.equal(await store.commit(evil, leaderFence, checkpoint, checkpoint + 1), 'fenced');
      assert.equal(await store.repair(evil, leaderFence), false);
      assert.equal(await revisionNow(), beforeDeposed, 'the deposed leader changed nothing');

      // The instance campaigns again and projects new events under its new fence.
      await publishWorkload(stack, ['r3'], 30, { seed: 5 });
      await assertViewIsFold(stack);
      assert.equal((await readEtcdView(stack)).has(`${viewPrefix(stack.config)}/files/evil`), false);
    } finally {
      await leader.stop();
      await stack.stop();
    }
  });
});
