// The projector's write path on real servers: a leader far behind writes each record once, not once
// per batch; live batches group what arrives during a commit; a deposed projector says so even idle.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { viewPrefix } from '../../src/config/derived.js';
import { ViewStore, type Fence } from '../../src/etcd/viewStore.js';
import { runProjector, START_UP_POINTS, type ProjectorExit, type StartUpPoint } from '../../src/projector/projector.js';
import { waitFor, withTimeout } from '../../src/util/waitFor.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { fileRegistered, fileUpdated } from '../support/events.js';
import { appenderFor, publishWorkload } from '../support/publish.js';
import { asObject, checkpointOf, quietLog, readEtcdView, startStack, streamLastSeq, viewAndFold, type Stack } from '../support/stack.js';
import { regionRegistration } from '../support/workload.js';

type Running = {
  readonly exit: Promise<ProjectorExit>;
  readonly stop: () => Promise<ProjectorExit>;
  /** One entry per committed batch: its checkpoint and how many records it wrote. */
  readonly batches: Array<{ readonly seq: number; readonly records: number }>;
  readonly revoke: () => Promise<void>;
};

type ProjectOptions = {
  readonly catchUpKeys?: number;
  /** Where the view goes (default: the coordinator's view prefix). */
  readonly prefix?: string;
  readonly onAwaitPoint?: (point: StartUpPoint, stop: () => void) => void;
};

/** How long a stopped projector may take to return: it finishes the commit in flight, nothing more. */
const STOP_BOUND_MS = 5000;

let leaders = 0;
const project = async (stack: Stack, batchEvents: number, { catchUpKeys, prefix = viewPrefix(stack.config), onAwaitPoint }: ProjectOptions = {}): Promise<Running> => {
  const electionPrefix = `${stack.config.etcd.prefix}/election/projector/`;
  const lease = stack.etcdClient.lease(30);
  const key = `${electionPrefix}test-${++leaders}`;
  await lease.put(key).value('test');
  const kv = (await stack.etcdClient.get(key).exec()).kvs[0];
  assert.ok(kv);
  const fence: Fence = { key, createRevision: kv.create_revision, electionPrefix };
  const { max_txn_ops: maxTxnOps, max_txn_bytes: maxTxnBytes } = stack.config.projector;
  const store = new ViewStore(stack.etcdClient, prefix, { maxTxnOps, maxTxnBytes });
  const batches: Array<{ seq: number; records: number }> = [];
  const stopping = new AbortController();
  const exit = runProjector(
    {
      nc: stack.client.nc, js: stack.client.js, jsm: stack.client.jsm, stream: stack.config.nats.stream, store, fence, batchEvents, log: quietLog,
      ...(catchUpKeys === undefined ? {} : { catchUpKeys }),
      ...(onAwaitPoint === undefined ? {} : { onAwaitPoint: (point: StartUpPoint) => onAwaitPoint(point, () => stopping.abort()) }),
      onCommitted: (view, touched) => batches.push({ seq: view.seq, records: touched.length }),
    },
    stopping.signal,
  );
  return {
    exit,
    batches,
    stop: async () => {
      stopping.abort();
      const result = await withTimeout(exit, STOP_BOUND_MS, 'the projector to return after stop()');
      await lease.revoke().catch(() => undefined);
      return result;
    },
    revoke: () => lease.revoke(),
  };
};

/** etcd's own count of keys put since it started. */
const etcdPuts = async (stack: Stack): Promise<number> => {
  const text = await (await fetch(`${stack.etcd.endpoint}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const match = /^etcd_mvcc_put_total (\S+)$/m.exec(text);
  assert.ok(match, 'etcd exposes etcd_mvcc_put_total');
  return Number(match[1]);
};

const caughtUp = (stack: Stack, seq: number) =>
  waitFor(async () => (await checkpointOf(stack)) >= seq, { timeoutMs: 60_000, what: `the checkpoint to reach ${seq}` });

/**
 * The checkpoint in etcd moves before the projector's continuation calls onCommitted: a test that
 * reads `batches` waits for the batch to be reported too, not for the checkpoint alone.
 */
const reported = (projector: Running, seq: number) =>
  waitFor(() => (projector.batches.at(-1)?.seq ?? 0) >= seq, { timeoutMs: 10_000, what: `onCommitted to report a batch up to ${seq}` });

const assertViewIsFold = async (stack: Stack): Promise<void> => {
  const { actual, expected } = await viewAndFold(stack);
  assert.deepStrictEqual(asObject(actual), asObject(expected));
};

/** Batches commit in stream order, each past the previous checkpoint. */
const assertInOrder = (batches: ReadonlyArray<{ seq: number }>): void => {
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.seq > batches[i - 1]!.seq, `batch ${i} after batch ${i - 1}`);
};

/** 20 files, each registered and then updated 99 times by r1: 2,000 changes over few records. */
const hotFiles = (): CoordinatorEvent[] => {
  const events: CoordinatorEvent[] = [regionRegistration('r1', 1), regionRegistration('r2', 2), regionRegistration('r3', 3)];
  for (let f = 0; f < 20; f++) {
    const file = { fileId: `hot-${f}` };
    events.push(fileRegistered({ file, clock: { r1: 1 } }));
    for (let n = 2; n <= 100; n++) events.push(fileUpdated({ file: { ...file, size: n }, clock: { r1: n } }));
  }
  return events;
};

describe('projector write path', () => {
  test('a leader starting far behind folds to the stream end first: one put per record, not per batch', async () => {
    const stack = await startStack();
    try {
      const appender = appenderFor(stack);
      const events = hotFiles();
      for (let i = 0; i < events.length; i += 200) await Promise.all(events.slice(i, i + 200).map((e) => appender.append(e)));
      const tail = await streamLastSeq(stack);
      const putsBefore = await etcdPuts(stack);
      const projector = await project(stack, 50);
      await caughtUp(stack, tail);
      assert.equal(await projector.stop(), 'stopped');
      const puts = (await etcdPuts(stack)) - putsBefore;
      const records = (await readEtcdView(stack)).size - 1;
      assert.deepEqual(projector.batches.map((b) => b.seq), [tail], 'the whole backlog in one commit');
      // Batches of 50 events would have rewritten each hot file and its pending entries 40 times.
      assert.equal(puts, records + 2, `${puts} puts for ${records} records, the checkpoint and the election key (${tail} events)`);
      assert.ok(records < tail / 20);
      await assertViewIsFold(stack);
    } finally {
      await stack.stop();
    }
  });

  describe('on a realistic workload', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(async () => stack.stop());

    test('catching up commits every few hundred distinct records, then projects live; the view is the fold', async () => {
      await publishWorkload(stack, ['r1', 'r2', 'r3'], 3000, { seed: 21 });
      const tail = await streamLastSeq(stack);
      const projector = await project(stack, 100, { catchUpKeys: 300 });
      try {
        await caughtUp(stack, tail);
        await reported(projector, tail);
        const catchUp = [...projector.batches];
        assert.ok(catchUp.length >= 3, `the backlog in several commits (${catchUp.length})`);
        // A commit closes at the first event that takes it to 300 records; an event touches a few.
        for (const b of catchUp) assert.ok(b.records < 300 + 10, `${b.records} records in one catch-up commit`);
        await assertViewIsFold(stack);

        await publishWorkload(stack, ['r1', 'r2', 'r3'], 300, { seed: 22 });
        await caughtUp(stack, await streamLastSeq(stack));
        assertInOrder(projector.batches);
        await assertViewIsFold(stack);
      } finally {
        assert.equal(await projector.stop(), 'stopped');
      }
    });

    test('live, a burst is committed in groups no larger than batch_events, and the last event does not wait', async () => {
      const projector = await project(stack, 100);
      try {
        const start = await streamLastSeq(stack);
        await caughtUp(stack, start);
        const committedBefore = projector.batches.length;
        const events = hotFiles().map((e, i) => ({ ...e, id: `burst-${i}` }));
        // Published pipelined, as regions do; the projector folds while they arrive.
        const appender = appenderFor(stack);
        await Promise.all(events.map((e) => appender.append(e)));
        const tail = await streamLastSeq(stack);
        await caughtUp(stack, tail);
        await reported(projector, tail);
        const live = projector.batches.slice(committedBefore);
        const sizes = live.map((b, i) => b.seq - (i === 0 ? start : live[i - 1]!.seq));
        assert.equal(sizes.reduce((a, b) => a + b, 0), tail - start);
        assert.ok(Math.max(...sizes) <= 100, `batches of at most batch_events (${Math.max(...sizes)})`);
        assert.ok(live.length <= (tail - start) / 10, `${tail - start} events grouped into ${live.length} commits`);
        assertInOrder(projector.batches);
        await assertViewIsFold(stack);
      } finally {
        assert.equal(await projector.stop(), 'stopped');
      }
    });

    test('a stop at any await point of the start-up is seen: the projector returns stopped within 5 s', async () => {
      // More events than a batch: the start-up takes the catch-up path too, so every point is passed.
      await publishWorkload(stack, ['r1', 'r2'], 60, { seed: 23 });
      const tail = await streamLastSeq(stack);
      const outcomes: Record<string, string> = {};
      for (const [k, at] of START_UP_POINTS.entries()) {
        const passed: StartUpPoint[] = [];
        const prefix = `${viewPrefix(stack.config)}-stopped-at-${at}`;
        const projector = await project(stack, 10, {
          prefix,
          onAwaitPoint: (point, stop) => {
            passed.push(point);
            if (point === at) stop();
          },
        });
        try {
          const exit = await withTimeout(projector.exit, STOP_BOUND_MS, `runProjector to return after a stop at ${at}`);
          const expected = START_UP_POINTS.slice(0, k + 1);
          outcomes[at] = exit === 'stopped' && passed.join() === expected.join() ? 'stopped there' : `${exit}, having passed ${passed.join(', ')}`;
        } catch (error) {
          outcomes[at] = error instanceof Error ? error.message : String(error);
        } finally {
          await projector.revoke().catch(() => undefined);
        }
        const checkpoint = await stack.etcdClient.get(`${prefix}/checkpoint`).string();
        const seq = checkpoint === null ? 0 : (JSON.parse(checkpoint) as { seq: number }).seq;
        assert.ok(seq <= tail, `a checkpoint within the stream (${seq} of ${tail})`);
      }
      assert.deepEqual(outcomes, Object.fromEntries(START_UP_POINTS.map((at) => [at, 'stopped there'])));
    });

    test('a projector whose lease is revoked returns deposed at its next commit, and writes nothing more', async () => {
      const projector = await project(stack, 100);
      await caughtUp(stack, await streamLastSeq(stack));
      const checkpoint = await checkpointOf(stack);
      await projector.revoke();
      const appender = appenderFor(stack);
      await appender.append(fileRegistered({ file: { fileId: 'after-revoke' }, clock: { r2: 1 }, region: 'r2' }));
      assert.equal(await withTimeout(projector.exit, 30_000, 'the projector to see that its lease was revoked'), 'deposed');
      assert.equal(await checkpointOf(stack), checkpoint);
      assert.equal((await readEtcdView(stack)).has(`${viewPrefix(stack.config)}/files/after-revoke`), false);
    });
  });
});
