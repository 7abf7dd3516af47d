// A region that never acks, with thousands of lazy entries owed, on real NATS and etcd: projection
// of new changes is not held up by the dispatcher, requests go in full batches, repeats wait for the
// broadcast timeout and come once per attempt, and a new leader carries on from the log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { ensureOutboundStream, streamSettings } from '../../src/nats/stream.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import type { SyncRequestMessage } from '../../src/sync/dispatcher.js';
import { waitFor } from '../../src/util/waitFor.js';
import { publishBulk } from '../support/bulk.js';
import { fileRegistered, regionRegistered } from '../support/events.js';
import { appenderFor } from '../support/publish.js';
import { asObject, checkpointOf, startInProcess, startStack, viewAndFold, type Stack } from '../support/stack.js';

const BACKLOG = 4000;
const BATCH = 100;
const TIMEOUT_MS = 2500;

describe('sync backlog of a region that never acks', () => {
  let stack: Stack;
  let leader: Coordinator | undefined;
  const inbox: SyncRequestMessage[] = [];
  const stop = new AbortController();
  let reading: Promise<void> | undefined;
  let backlogSeq = 0;

  /** Per file, the time of each attempt's request (from the request's `at`). */
  const attempts = () => {
    const out = new Map<string, Map<number, number[]>>();
    for (const m of inbox) {
      for (const f of m.files) {
        const byAttempt = out.get(f.fileId) ?? new Map<number, number[]>();
        out.set(f.fileId, byAttempt);
        byAttempt.set(f.attempt, [...(byAttempt.get(f.attempt) ?? []), Date.parse(m.at)]);
      }
    }
    return out;
  };
  const filesAt = (attempt: number) => [...attempts().values()].filter((a) => a.has(attempt)).length;

  /** Appends `n` changes of new files and waits until the committed view holds the last. */
  const projectNewChanges = async (tag: string, n: number): Promise<number> => {
    const appender = appenderFor(stack);
    const acks = await Promise.all(Array.from({ length: n }, (_, i) =>
      appender.append(fileRegistered({ region: 'bulk', file: { fileId: `${tag}${i}`, path: `/new/${tag}${i}` }, at: new Date().toISOString() }))));
    const last = Math.max(...acks.map((a) => a.seq));
    const started = performance.now();
    await waitFor(async () => (await checkpointOf(stack)) >= last, { timeoutMs: 30_000, what: `${tag}: the view to hold the new changes` });
    return performance.now() - started;
  };

  before(async () => {
    stack = await startStack({
      JZSE_SYNC_DEFAULT_STRATEGY: 'lazy', JZSE_SYNC_BATCH_SIZE: String(BATCH), JZSE_SYNC_FLUSH_INTERVAL: '400ms',
      JZSE_SYNC_BROADCAST_TIMEOUT: `${TIMEOUT_MS}ms`, JZSE_SYNC_MAX_BACKOFF: `${TIMEOUT_MS}ms`,
    });
    // The leader starts after the backlog is in the log; the regions' requests stream must exist first.
    await ensureOutboundStream(stack.client.jsm, streamSettings(stack.config), stack.config.sync.request_retention);
    await appenderFor(stack).append(regionRegistered({ region: 'silent', at: new Date().toISOString() }));
    await stack.client.jsm.consumers.add(OUTBOUND_STREAM, { durable_name: 'silent', filter_subject: syncRequestsSubject('silent'), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await stack.client.js.consumers.get(OUTBOUND_STREAM, 'silent');
    const messages = await consumer.consume({ max_messages: 1000 });
    stop.signal.addEventListener('abort', () => void messages.close(), { once: true });
    reading = (async () => {
      for await (const m of messages) {
        inbox.push(JSON.parse(new TextDecoder().decode(m.data)) as SyncRequestMessage);
        m.ack();
      }
    })();
    // The backlog is in the log before any leader: the first leader's index starts with all of it.
    backlogSeq = await publishBulk(stack, BACKLOG, { region: 'bulk' });
    leader = await startInProcess(stack, 'c1');
  });
  after(async () => {
    stop.abort();
    await reading;
    await leader?.stop();
    await stack.stop();
  });

  test('the backlog is projected and requested in full batches, each file once', async () => {
    await waitFor(async () => (await checkpointOf(stack)) >= backlogSeq, { timeoutMs: 60_000, what: 'the backlog projected' });
    await waitFor(() => filesAt(1) === BACKLOG, { timeoutMs: 60_000, what: `first requests for all ${BACKLOG} files` });
    const first = inbox.filter((m) => m.files.every((f) => f.attempt === 1));
    assert.ok(first.every((m) => m.reason === 'lazy' && m.files.length === BATCH), `lazy requests are full batches: ${[...new Set(first.map((m) => m.files.length))].join(', ')}`);
    assert.ok([...attempts().values()].every((a) => a.get(1)?.length === 1), 'no file is asked twice at attempt 1');
  });

  test('new changes are projected while the whole backlog is asked again, and repeats wait for the broadcast timeout', async () => {
    const before = filesAt(2);
    const took = await projectNewChanges('n', 300);
    assert.ok(took < 20_000, `300 new changes projected in ${Math.round(took)} ms`);
    await waitFor(() => filesAt(2) === BACKLOG, { timeoutMs: 60_000, what: `repeated requests for all ${BACKLOG} files (had ${before})` });
    for (const [fileId, byAttempt] of attempts()) {
      if (!fileId.startsWith('b')) continue;
      const [one] = byAttempt.get(1) ?? [];
      const two = byAttempt.get(2) ?? [];
      assert.equal(two.length, 1, `${fileId}: asked once at attempt 2`);
      assert.ok(two[0]! - one! >= TIMEOUT_MS, `${fileId}: repeated ${two[0]! - one!} ms after the first request`);
    }
    // The 300 new files joined the silent region's lazy queue behind the repeats: three full batches.
    await waitFor(() => Array.from({ length: 300 }, (_, i) => `n${i}`).every((f) => attempts().has(f)), { what: 'the new files requested' });
  });

  test('a new leader carries on from the log: no file asked twice at one attempt, projection continues', async () => {
    await leader?.stop();
    leader = await startInProcess(stack, 'c2');
    const took = await projectNewChanges('m', 100);
    assert.ok(took < 20_000, `100 changes after failover projected in ${Math.round(took)} ms`);
    await waitFor(() => filesAt(3) === BACKLOG, { timeoutMs: 60_000, what: 'the third attempt for the whole backlog, from the new leader' });
    assert.ok([...attempts().values()].every((a) => [...a.values()].every((times) => times.length === 1)), 'each attempt of each file is requested once');
    await waitFor(async () => {
      const { actual, expected } = await viewAndFold(stack);
      return JSON.stringify(asObject(actual)) === JSON.stringify(asObject(expected));
    }, { timeoutMs: 30_000, what: 'the view to equal the fold of the log' });
  });
});
