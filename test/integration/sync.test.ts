// Sync requests with four simulated regions on real NATS and etcd: eager, lazy batches, repeated
// requests, and an offline region that gets what it missed once it returns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { syncRequestsSubject } from '../../streams/subjects.js';
import type { Coordinator } from '../../src/coordinator.js';
import type { SyncRequestMessage } from '../../src/sync/dispatcher.js';
import { onAbort } from '../../src/util/abort.js';
import { delay, waitFor, withTimeout } from '../../src/util/waitFor.js';
import { call, connectClients, type Clients } from '../support/grpcClient.js';
import { appenderFor } from '../support/publish.js';
import { asObject, startInProcess, startStack, viewAndFold, type Stack } from '../support/stack.js';

const REGIONS = ['r1', 'r2', 'r3', 'r4'];
const ts = () => ({ seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 });
const meta = (fileId: string, path: string, clock: Record<string, number>) => ({
  file_id: fileId, path, size: '1', checksum: `c-${fileId}`, modified_at: ts(),
  vector_clock: Object.fromEntries(Object.entries(clock).map(([k, v]) => [k, String(v)])), attributes: {},
});

describe('sync requests', () => {
  let stack: Stack;
  let coordinator: Coordinator;
  let api: Clients;
  const inbox = new Map<string, SyncRequestMessage[]>(REGIONS.map((r) => [r, []]));
  const silent = new Set<string>();
  const stop = new AbortController();
  const loops: Array<Promise<void>> = [];

  const received = (region: string, fileId: string) =>
    (inbox.get(region) ?? []).flatMap((m) => m.files.filter((f) => f.fileId === fileId).map((f) => ({ reason: m.reason, attempt: f.attempt, id: m.id })));
  const locations = async (fileId: string) =>
    Object.fromEntries(((await call<{ locations: Array<{ region_id: string; state: string }> }>(api.MetadataService, 'GetLocations', { file_id: fileId })).value?.locations ?? []).map((l) => [l.region_id, l.state]));

  before(async () => {
    stack = await startStack({
      JZSE_SYNC_DEFAULT_STRATEGY: 'lazy', JZSE_SYNC_BATCH_SIZE: '3', JZSE_SYNC_FLUSH_INTERVAL: '600ms',
      JZSE_SYNC_BROADCAST_TIMEOUT: '800ms', JZSE_SYNC_MAX_BACKOFF: '3s',
      JZSE_HEALTH_HEARTBEAT_INTERVAL: '200ms', JZSE_HEALTH_DEGRADED_AFTER_MISSED: '3', JZSE_HEALTH_OFFLINE_AFTER: '1s',
    });
    coordinator = await startInProcess(stack, 'c1');
    api = connectClients(coordinator.api.port);
    for (const id of REGIONS) {
      const region = { id, name: id, endpoint: `${id}:1`, location: { latitude: 0, longitude: 0, name: '' }, capacity: { total_bytes: '1' } };
      assert.ok((await call(api.RegionService, 'Register', { region, write: { wait_for_view: true } })).ok);
      // Each region reads its own requests with a durable consumer, as a region would.
      await stack.client.jsm.consumers.add(OUTBOUND_STREAM, { durable_name: id, filter_subject: syncRequestsSubject(id), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
      const consumer = await stack.client.js.consumers.get(OUTBOUND_STREAM, id);
      loops.push((async () => {
        const messages = await consumer.consume({ max_messages: 100 });
        // onAbort: a stop before consume() resolved must still end this loop.
        onAbort(stop.signal, () => void messages.close());
        for await (const m of messages) {
          inbox.get(id)?.push(JSON.parse(new TextDecoder().decode(m.data)) as SyncRequestMessage);
          m.ack();
        }
      })());
      loops.push((async () => {
        while (!stop.signal.aborted) {
          if (!silent.has(id)) await call(api.RegionService, 'Heartbeat', { region_id: id, status: { state: 'HEALTHY' } });
          await delay(100, stop.signal);
        }
      })());
    }
    await appenderFor(stack).append({ schema: 1, id: 'hot-eager', type: 'policy.set', at: new Date().toISOString(), operator: 'ops', pattern: '/hot/**', sync: 'eager' });
  });
  after(async () => {
    stop.abort();
    await withTimeout(Promise.all(loops), 20_000, "the regions' consumer and heartbeat loops to end");
    api.close();
    await coordinator.stop();
    await stack.stop();
  });

  test('eager: every other region is asked at once; copies are syncing until acked; unacked requests are repeated', async () => {
    const reg = await call<{ write: { event_id: string } }>(api.MetadataService, 'Register', { region_id: 'r1', metadata: meta('a', '/hot/a', { r1: 1 }), write: { event_id: 'reg-a', wait_for_view: true } });
    assert.ok(reg.ok);
    await waitFor(() => ['r2', 'r3', 'r4'].every((r) => received(r, 'a').length >= 1), { what: 'eager requests for a' });
    for (const r of ['r2', 'r3', 'r4']) assert.deepEqual(received(r, 'a')[0], { reason: 'eager', attempt: 1, id: received(r, 'a')[0]?.id });
    assert.deepEqual(received('r1', 'a'), [], 'the origin is not asked');
    await waitFor(async () => JSON.stringify(await locations('a')) === JSON.stringify({ r1: 'SYNCED', r2: 'SYNCING', r3: 'SYNCING', r4: 'SYNCING' }), { what: 'syncing copies' });

    const copies = async () => {
      const f = (await call<{ file: { synced_copies: number; under_replicated: boolean; replicas: number } }>(api.MetadataService, 'Get', { file_id: 'a' })).value?.file;
      return [f?.synced_copies, f?.replicas, f?.under_replicated];
    };
    assert.deepEqual(await copies(), [1, 3, true], 'one synced copy of three wanted');
    for (const r of ['r2', 'r3']) assert.ok((await call(api.SyncService, 'AckSync', { region_id: r, event_ids: ['reg-a'], write: { wait_for_view: true } })).ok);
    assert.deepEqual(await copies(), [3, 3, false], 'fully replicated once two regions acked');
    await waitFor(() => received('r4', 'a').some((x) => x.reason === 'retry' && x.attempt === 2), { what: 'a repeated request to r4' });
    assert.deepEqual(received('r2', 'a').map((x) => x.attempt), [1], 'acked regions are not asked again');
    assert.deepEqual(await locations('a'), { r1: 'SYNCED', r2: 'SYNCED', r3: 'SYNCED', r4: 'SYNCING' });
    const lag = async (r: string) => (await call<{ region: { pending_changes: string } }>(api.RegionService, 'GetRegion', { region_id: r })).value?.region.pending_changes;
    assert.deepEqual([await lag('r2'), await lag('r4')], ['0', '1'], 'the unacked request shows in the sync lag');
    assert.ok((await call(api.SyncService, 'AckSync', { region_id: 'r4', event_ids: ['reg-a'], write: { wait_for_view: true } })).ok);
  });

  test('lazy: requests wait for a batch or the flush interval, one message for several files', async () => {
    for (const f of ['b1', 'b2']) {
      assert.ok((await call(api.MetadataService, 'Register', { region_id: 'r1', metadata: meta(f, `/cold/${f}`, { r1: 1 }), write: { event_id: `reg-${f}` } })).ok);
    }
    await waitFor(() => received('r2', 'b1').length > 0 && received('r2', 'b2').length > 0, { what: 'lazy requests' });
    const [b1] = received('r2', 'b1');
    assert.equal(b1?.reason, 'lazy');
    assert.equal(b1?.id, received('r2', 'b2')[0]?.id, 'both files in one request');
  });

  test('on-demand: copies wait until a region asks for the file, then only that region is asked', async () => {
    await appenderFor(stack).append({ schema: 1, id: 'cold-on-demand', type: 'policy.set', at: new Date().toISOString(), operator: 'ops', pattern: '/archive/**', sync: 'on_demand' });
    assert.ok((await call(api.MetadataService, 'Register', { region_id: 'r1', metadata: meta('e', '/archive/e', { r1: 1 }), write: { event_id: 'reg-e', wait_for_view: true } })).ok);
    const pending = await call<{ changes: Array<{ file_id: string }> }>(api.SyncService, 'GetPendingChanges', { region_id: 'r3' });
    assert.ok(pending.value?.changes.some((c) => c.file_id === 'e'), 'r3 owes e');
    assert.ok((await call(api.MetadataService, 'Get', { file_id: 'e', requesting_region: 'r3' })).ok);
    await waitFor(() => received('r3', 'e').length > 0, { what: 'r3 asked for e' });
    assert.deepEqual(received('r3', 'e').map((x) => x.reason), ['on_demand']);
    // r2 never asked: a lazy file registered after e reaches r2, e does not.
    assert.ok((await call(api.MetadataService, 'Register', { region_id: 'r1', metadata: meta('after-e', '/cold/after-e', { r1: 1 }), write: { event_id: 'reg-after-e' } })).ok);
    await waitFor(() => received('r2', 'after-e').length > 0, { what: 'r2 gets the later lazy file' });
    assert.deepEqual(received('r2', 'e'), [], 'a region that did not ask is not sent the file');
  });

  test('an offline region is sent nothing, then gets what it missed once it returns', async () => {
    silent.add('r4');
    await waitFor(async () => {
      const active = await call<{ regions: Array<{ id: string }> }>(api.RegionService, 'GetActiveRegions', {});
      return !(active.value?.regions ?? []).some((r) => r.id === 'r4');
    }, { what: 'r4 offline' });
    assert.ok((await call(api.MetadataService, 'Register', { region_id: 'r1', metadata: meta('d', '/hot/d', { r1: 1 }), write: { event_id: 'reg-d' } })).ok);
    await waitFor(() => received('r2', 'd').length > 0 && received('r3', 'd').length > 0, { what: 'eager requests for d' });
    assert.deepEqual(received('r4', 'd'), [], 'nothing sent to an offline region');
    silent.delete('r4');
    await waitFor(() => received('r4', 'd').length > 0, { what: 'r4 gets d after returning' });
    assert.ok((await call(api.SyncService, 'AckSync', { region_id: 'r4', event_ids: ['reg-d'], write: { wait_for_view: true } })).ok);
    assert.deepEqual(received('r4', 'd').filter((x) => x.attempt === 1).length, 1, 'the missed request arrives once');
    const { actual, expected } = await viewAndFold(stack);
    assert.deepStrictEqual(asObject(actual), asObject(expected));
  });
});
