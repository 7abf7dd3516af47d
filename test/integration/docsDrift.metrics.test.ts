// deploy/README.md's metrics, read from /metrics under a short real workload: every documented
// metric is exposed by a coordinator that runs as main.ts runs it (defaults on), the ones a
// workload moves have moved, and jzse_stream_last_seq / jzse_projector_checkpoint_seq are the
// stream's end and the checkpoint on the leader and on a follower alike. (That the fault-only
// counters are set by some code path is checked statically by test/unit/docsDrift.metrics.test.ts.)
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
import { checkpointOf, startInProcess, startStack, streamLastSeq, type Stack } from '../support/stack.js';

const DOC = 'deploy/README.md';

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

  test('every documented metric is exposed, and what the workload moved has moved', async () => {
    const registered = await call(clients.RegionService, 'Register', {
      region: { id: 'eu-west', name: 'Paris', endpoint: 'eu-west:7000', location: { latitude: 48.8, longitude: 2.3 }, capacity: { total_bytes: '1' } },
      write: { event_id: 'metrics-region', wait_for_view: true },
    });
    assert.ok(registered.ok, JSON.stringify(registered));
    // A region publishing a bad event straight onto its subject: kept as a rejected entry.
    await stack.client.js.publish(REGIONS_STATUS, new TextEncoder().encode('{"schema":1}'), { msgID: 'metrics-bad' });
    await waitFor(async () => ((await checkpointOf(stack)) >= (await streamLastSeq(stack)) ? true : undefined), { timeoutMs: 30_000, what: 'the view to catch up' });

    const text = await scrape();
    const values = samples(text);
    for (const name of documented) {
      const family = name.endsWith('*');
      const present = family
        ? text.split('\n').some((l) => l.startsWith(`# TYPE ${name.slice(0, -1)}`))
        : text.includes(`# TYPE ${name} `);
      assert.ok(present, `${DOC}: ${name} is not on /metrics`);
    }
    assert.equal(values.get('jzse_leader'), 1);
    assert.ok((values.get('jzse_projector_events_total{outcome="applied"}') ?? 0) >= 1, 'applied events counted');
    assert.ok((values.get('jzse_projector_events_total{outcome="rejected"}') ?? 0) >= 1, 'the rejected event counted');
    assert.ok((values.get('jzse_projector_batch_seconds_count') ?? 0) >= 1, 'batch commit time observed');
    assert.equal(values.get('jzse_events_appended_total{type="region.registered",duplicate="false"}'), 1);
    assert.equal(values.get('jzse_grpc_server_handling_seconds_count{method="RegionService/Register",code="OK"}'), 1);
    assert.equal(values.get('jzse_append_errors_total'), 0);
    assert.ok((values.get('process_cpu_seconds_total') ?? 0) > 0, 'process CPU');
    assert.ok((values.get('nodejs_heap_size_used_bytes') ?? 0) > 0, 'Node heap');
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
