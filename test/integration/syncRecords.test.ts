// The leader's record of what it sent (sync.requested) on real NATS and etcd. A request the fold does
// not record must not be sent again as if new (same id, attempt 1, every duplicate window): it is
// retried after the backoff with attempt + 1 under a new id. And requests are split so that no
// record is too large for the fold to take.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { MAX_EVENT_BYTES } from '../../streams/decode.js';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import { ensureOutboundStream, streamSettings } from '../../src/nats/stream.js';
import { requestId, type SyncRequestMessage } from '../../src/sync/dispatcher.js';
import { waitFor } from '../../src/util/waitFor.js';
import { fileRegistered, policySet, regionHeartbeat, regionRegistered, syncDemanded } from '../support/events.js';
import { appenderFor } from '../support/publish.js';
import { startInProcess, startStack, type Stack } from '../support/stack.js';

const BATCH = 1000;
/** An id of exactly 128 characters, the most the id rule allows. */
const longId = (tag: string): string => `${tag}-`.padEnd(128, 'x');

describe('sync request records', () => {
  let stack: Stack;
  let leader: Coordinator;
  const inbox: Array<{ message: SyncRequestMessage; bytes: number }> = [];
  const stop = new AbortController();
  let reading: Promise<void> | undefined;
  const now = () => new Date().toISOString();
  const view = () => leader.committedView();

  const requestsFor = (fileId: string) =>
    inbox.flatMap(({ message }) => message.files.filter((f) => f.fileId === fileId).map((f) => ({ id: message.id, attempt: f.attempt, reason: message.reason })));

  before(async () => {
    stack = await startStack({
      JZSE_NATS_DUPLICATE_WINDOW: '1s',
      JZSE_SYNC_BATCH_SIZE: String(BATCH), JZSE_SYNC_FLUSH_INTERVAL: '30s',
      JZSE_SYNC_BROADCAST_TIMEOUT: '1s', JZSE_SYNC_MAX_BACKOFF: '2s',
    });
    await ensureOutboundStream(stack.client.jsm, streamSettings(stack.config), stack.config.sync.request_retention);
    const appender = appenderFor(stack);
    for (const region of ['r1', 'r2']) await appender.append(regionRegistered({ region, at: now() }));
    await stack.client.jsm.consumers.add(OUTBOUND_STREAM, { durable_name: 'r2', filter_subject: syncRequestsSubject('r2'), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const messages = await (await stack.client.js.consumers.get(OUTBOUND_STREAM, 'r2')).consume({ max_messages: 100 });
    stop.signal.addEventListener('abort', () => void messages.close(), { once: true });
    reading = (async () => {
      for await (const m of messages) {
        inbox.push({ message: JSON.parse(new TextDecoder().decode(m.data)) as SyncRequestMessage, bytes: m.data.byteLength });
        m.ack();
      }
    })();
    leader = await startInProcess(stack, 'c1');
  });
  after(async () => {
    stop.abort();
    await reading;
    await leader.stop();
    await stack.stop();
  });

  test('a request the fold does not record is retried with attempt + 1 under a new id, not re-sent as new', async () => {
    const appender = appenderFor(stack);
    const change = fileRegistered({ id: 'reg-burn', region: 'r1', file: { fileId: 'f-burn', path: '/od/f-burn' }, at: now() });
    const { seq } = await appender.append(change);
    // The id the leader's record of its first request will have is already burned in the log (an
    // event rejected under it), so the fold takes that record as a no-op: the request is unrecorded.
    const first = requestId({ region: 'r2', reason: 'on_demand', items: [{ fileId: 'f-burn', eventId: change.id, seq, clock: change.clock, deleted: false, attempt: 1 }] });
    const burn = await appender.append(regionHeartbeat({ id: `dispatched:${first}`, region: 'ghost', at: now() }));
    await waitFor(() => (view()?.seq ?? 0) >= burn.seq, { what: 'the burned id folded' });
    assert.match(view()?.rejected.get(`dispatched:${first}`)?.reason ?? '', /ghost is not a registered region/);

    await appender.append(syncDemanded({ id: 'demand-burn', region: 'r2', fileIds: ['f-burn'], at: now() }));
    await waitFor(() => requestsFor('f-burn').some((r) => r.attempt >= 3), { timeoutMs: 20_000, what: 'the third attempt for f-burn' });
    const sent = requestsFor('f-burn');
    assert.equal(sent[0]?.id, first, 'the first request is the one whose record was burned');
    assert.deepEqual(sent.slice(0, 3).map((r) => [r.attempt, r.reason]), [[1, 'on_demand'], [2, 'retry'], [3, 'retry']], 'attempt 1 once, then retries');
    assert.equal(new Set(sent.map((r) => r.id)).size, sent.length, 'every request has its own id');
    const p = view()?.pending.get('r2/f-burn');
    assert.ok((p?.requested?.attempt ?? 0) >= 2, 'the retries are recorded in the log');
  });

  test('a full batch of long ids is split so that every record is taken: each file requested once, at attempt 1', async () => {
    const appender = appenderFor(stack);
    await appender.append(policySet({ id: 'p-big', pattern: '/big/**', sync: 'lazy', at: now() }));
    const changes = Array.from({ length: BATCH }, (_, i) => fileRegistered({
      id: longId(`ev${i}`), region: 'r1', file: { fileId: longId(`big${i}`), path: `/big/${i}` }, at: now(),
    }));
    await Promise.all(changes.map((c) => appender.append(c)));
    const fileIds = changes.map((c) => c.file.fileId);
    await waitFor(() => {
      const v = view();
      return v !== undefined && fileIds.every((f) => v.pending.get(`r2/${f}`)?.requested?.attempt === 1);
    }, { timeoutMs: 30_000, what: `all ${BATCH} pending entries recorded as requested` });
    const refused = [...(view()?.rejected.values() ?? [])].filter((r) => r.subject === 'jzse.sync.dispatched');
    assert.deepEqual(refused, [], 'no record refused');
    const big = inbox.filter(({ message }) => message.files.some((f) => f.fileId.startsWith('big')));
    assert.ok(big.length >= 2, `split into ${big.length} requests`);
    for (const { bytes } of big) assert.ok(bytes <= MAX_EVENT_BYTES, `a request of ${bytes} bytes`);
    for (const f of fileIds) assert.deepEqual(requestsFor(f).map((r) => r.attempt), [1], `${f.slice(0, 12)}… requested once`);
  });
});
