// docs/observability.md's metrics, scraped from /metrics after a small real workload (regions that
// register, beat and leave, a manual conflict, gRPC and REST calls, a bad event): every documented
// metric is on /metrics of a coordinator that runs as main.ts runs it (defaults on) with a value,
// what the workload moved has the value it should, the view's gauges equal an independent fold of
// the stream on the leader and on a follower, and jzse_stream_last_seq / jzse_projector_checkpoint_seq
// are the stream's end and the checkpoint on both. (That the fault-only counters are set by some
// code path is checked statically by test/unit/docsDrift.metrics.test.ts.)
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Coordinator } from '../../src/coordinator.js';
import { createMetrics, serveMetrics } from '../../src/observability/metrics.js';
import { waitFor } from '../../src/util/waitFor.js';
import { REGIONS_STATUS } from '../../streams/subjects.js';
import { call, connectClients, type Clients } from '../support/grpcClient.js';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { appenderFor } from '../support/publish.js';
import { checkpointOf, foldStream, startInProcess, startStack, streamLastSeq, type Stack } from '../support/stack.js';

const DOC = 'docs/observability.md';

/** name{labels} → value, for every sample line of a Prometheus text exposition. */
const samples = (text: string): Map<string, number> =>
  new Map(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const at = l.lastIndexOf(' ');
    return [l.slice(0, at), Number(l.slice(at + 1))];
  }));

const documented = tableUnder(readDoc(DOC), DOC, '## Metrics', ['metric', 'what it says', 'watch for']).rows
  .flatMap((r) => codeSpans(r[0] ?? '')).map((s) => s.replace(/\{.*\}$/, ''));

describe(`${DOC}: /metrics under a workload`, () => {
  let stack: Stack;
  let leader: Coordinator;
  let follower: Coordinator;
  let clients: Clients;
  let server: Server;
  const leaderMetrics = createMetrics(true);
  const followerMetrics = createMetrics();

  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    stack = await startStack();
    leader = await startInProcess(stack, 'metrics-leader', {}, leaderMetrics);
    await waitFor(() => (leader.isLeader() ? true : undefined), { timeoutMs: 30_000, what: 'the first coordinator to lead' });
    follower = await startInProcess(stack, 'metrics-follower', {}, followerMetrics);
    server = await serveMetrics(leaderMetrics, 0);
    clients = connectClients(leader.api.port);
  });
  after(async () => {
    clients?.close();
    server?.close();
    await follower?.stop();
    await leader?.stop();
    await stack?.stop();
  });

  /** The workload: what each step leaves in the metrics is asserted below. */
  const register = async (id: string) => {
    const r = await call(clients.RegionService, 'Register', {
      region: { id, name: id, endpoint: `${id}:7000`, location: { latitude: 48.8, longitude: 2.3 }, capacity: { total_bytes: '1000000000000' } },
      write: { event_id: `metrics-join-${id}`, wait_for_view: true },
    });
    assert.ok(r.ok, JSON.stringify(r));
  };
  const beat = async (id: string, state: string, storage: number, load: number) => {
    const r = await call(clients.RegionService, 'Heartbeat', {
      region_id: id, status: { state, sync_lag: '0', storage_used: String(storage), load_level: load }, write: { event_id: `metrics-beat-${id}`, wait_for_view: true },
    });
    assert.ok(r.ok, JSON.stringify(r));
  };
  /** eu-west writes a file twice; us-east writes over the first version concurrently: a conflict. */
  const conflict = async () => {
    const file = (region: string, clock: Record<string, string>, checksum: string) => ({
      region_id: region,
      metadata: { file_id: 'metrics-file', path: '/manual/doc.txt', size: '1', checksum, modified_at: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 }, vector_clock: clock, attributes: {} },
      write: { event_id: `metrics-${checksum}`, wait_for_view: true },
    });
    assert.ok((await call(clients.MetadataService, 'Register', file('eu-west', { 'eu-west': '1' }, 'base'))).ok);
    assert.ok((await call(clients.MetadataService, 'Update', file('eu-west', { 'eu-west': '2' }, 'local'))).ok);
    const remote = await call<{ outcome: string }>(clients.MetadataService, 'Update', file('us-east', { 'eu-west': '1', 'us-east': '1' }, 'remote'));
    assert.equal(remote.value?.outcome, 'CONFLICT');
  };

  test('after a workload every documented metric has a value on /metrics, and the right one', async () => {
    await appenderFor(stack).append({ schema: 1, id: 'metrics-policy', type: 'policy.set', at: new Date().toISOString(), operator: 'ops', pattern: '/manual', conflict: 'manual' });
    for (const id of ['eu-west', 'us-east', 'leaving']) await register(id);
    await beat('eu-west', 'HEALTHY', 5_000_000_000, 0.25);
    await beat('us-east', 'OFFLINE', 7_000, 0.5);
    assert.ok((await call(clients.RegionService, 'Deregister', { region_id: 'leaving', reason: 'test', write: { event_id: 'metrics-leave', wait_for_view: true } })).ok);
    await conflict();
    // A region publishing a bad event straight onto its subject: kept as a rejected entry.
    await stack.client.js.publish(REGIONS_STATUS, new TextEncoder().encode('{"schema":1}'), { msgID: 'metrics-bad' });
    const rest = await fetch(`http://127.0.0.1:${leader.rest.port}/api/v1/regions`);
    assert.equal(rest.status, 200);
    await waitFor(async () => ((await checkpointOf(stack)) >= (await streamLastSeq(stack)) ? true : undefined), { timeoutMs: 30_000, what: 'the view to catch up' });

    const text = await scrape();
    const values = samples(text);
    const sampled = [...values.keys()];
    for (const name of documented) {
      const has = name.endsWith('*')
        ? sampled.some((k) => k.startsWith(name.slice(0, -1)))
        : sampled.some((k) => k === name || k.startsWith(`${name}{`) || /^(.+)_(bucket|sum|count)(\{|$)/.exec(k)?.[1] === name);
      assert.ok(has, `${DOC}: ${name} has no sample on /metrics`);
    }
    for (const [key, value] of values) assert.ok(Number.isFinite(value), `${key} ${value}`);

    assert.equal(values.get('jzse_leader'), 1);
    assert.ok((values.get('jzse_projector_events_total{outcome="applied"}') ?? 0) >= 10, 'applied events counted');
    assert.equal(values.get('jzse_projector_events_total{outcome="rejected"}'), 1, 'the bad event');
    assert.ok((values.get('jzse_projector_batch_seconds_count') ?? 0) >= 1, 'batch commit time observed');
    assert.equal(values.get('jzse_events_appended_total{type="region.registered",duplicate="false"}'), 3);
    assert.equal(values.get('jzse_events_appended_total{type="file.updated",duplicate="false"}'), 2);
    assert.equal(values.get('jzse_grpc_server_handling_seconds_count{method="RegionService/Register",code="OK"}'), 3);
    assert.equal(values.get('jzse_grpc_server_handling_seconds_count{method="RegionService/Heartbeat",code="OK"}'), 2);
    assert.equal(values.get('jzse_http_server_handling_seconds_count{route="/api/v1/regions",status="200"}'), 1);
    for (const zero of ['jzse_append_errors_total', 'jzse_auth_stale_verdicts_total', 'jzse_projector_txn_failures_total{reason="fenced"}', 'jzse_view_rebuilds_total{reason="checkpoint revision compacted"}']) {
      assert.equal(values.get(zero), 0, zero);
    }
    assert.ok((values.get('process_cpu_seconds_total') ?? 0) > 0, 'process CPU');
    assert.ok((values.get('nodejs_heap_size_used_bytes') ?? 0) > 0, 'Node heap');

    // The view's gauges: what an independent fold of the stream says, on the leader and a follower.
    const fold = await foldStream(stack);
    const seenAt = (id: string) => Date.parse(fold.regions.get(id)?.lastSeenAt ?? '') / 1000;
    const expected = new Map<string, number>([
      ['jzse_region_state{region="eu-west",state="healthy"}', 1], ['jzse_region_state{region="eu-west",state="degraded"}', 0], ['jzse_region_state{region="eu-west",state="offline"}', 0],
      ['jzse_region_state{region="us-east",state="healthy"}', 0], ['jzse_region_state{region="us-east",state="degraded"}', 0], ['jzse_region_state{region="us-east",state="offline"}', 1],
      ['jzse_region_last_seen_timestamp_seconds{region="eu-west"}', seenAt('eu-west')], ['jzse_region_last_seen_timestamp_seconds{region="us-east"}', seenAt('us-east')],
      ['jzse_region_storage_used_bytes{region="eu-west"}', 5_000_000_000], ['jzse_region_storage_used_bytes{region="us-east"}', 7_000],
      ['jzse_region_load_ratio{region="eu-west"}', 0.25], ['jzse_region_load_ratio{region="us-east"}', 0.5],
      ...['open', 'resolved'].flatMap((status) => ['last_writer_wins', 'merge', 'manual', 'fork'].map((strategy): [string, number] =>
        [`jzse_conflicts{status="${status}",strategy="${strategy}"}`, status === 'open' && strategy === 'manual' ? 1 : 0])),
    ]);
    const viewGauges = (seen: Map<string, number>) => new Map([...seen].filter(([k]) => /^jzse_(region_|conflicts\{)/.test(k)));
    assert.deepEqual(viewGauges(values), expected, 'leader');
    await waitFor(async () => {
      const seen = viewGauges(samples(await followerMetrics.registry.metrics()));
      return seen.size === expected.size && [...expected].every(([k, v]) => seen.get(k) === v) ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the follower\'s view gauges to equal the fold' });
    assert.ok(!text.includes('region="leaving"'), 'a deregistered region leaves the gauges');
  });

  test('jzse_stream_last_seq is the stream\'s end and the checkpoint reaches it, on the leader and on a follower', async () => {
    const before = await streamLastSeq(stack);
    const leaderSeen = samples(await scrape());
    const followerSeen = samples(await followerMetrics.registry.metrics());
    const after = await streamLastSeq(stack);
    for (const [who, seen] of [['leader', leaderSeen], ['follower', followerSeen]] as const) {
      const end = seen.get('jzse_stream_last_seq') ?? -1;
      assert.ok(before > 0 && end >= before && end <= after, `${who}: jzse_stream_last_seq ${end}, the stream ended at ${before}..${after}`);
    }
    // The backlog returns to 0 on every instance once the leader has committed everything.
    for (const [who, read] of [['leader', scrape], ['follower', () => followerMetrics.registry.metrics()]] as const) {
      await waitFor(async () => {
        const seen = samples(await read());
        const end = seen.get('jzse_stream_last_seq');
        return end !== undefined && end > 0 && seen.get('jzse_projector_checkpoint_seq') === end ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 100, what: `${who}: jzse_projector_checkpoint_seq to equal jzse_stream_last_seq` });
    }
  });
});
