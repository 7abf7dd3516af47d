// The production topology on loopback (src/stack/cluster.ts, `npm run cluster`): it starts, the
// stream really is replicated on 3 nats-servers and etcd really has 3 members, a change written
// through one coordinator is in the view another serves, and everything stops cleanly.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Etcd3 } from 'etcd3';
import { startCluster, type Cluster } from '../../src/stack/cluster.js';
import { waitFor } from '../../src/util/waitFor.js';

const at = '2026-11-25T10:00:00Z';

describe('npm run cluster: 3 nats-server, 3 etcd, PostgreSQL, 2 coordinators on loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jzse-cluster-test-'));
  let cluster: Cluster | undefined;
  let nc: NatsConnection | undefined;
  let token = '';

  const call = async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    cluster = await startCluster({
      dir,
      coordinators: 2,
      // Throwaway data; and no heartbeats or sync requests of the leader's own in the stream.
      postgresSettings: { fsync: 'off', full_page_writes: 'off', shared_buffers: '32MB' },
      coordinatorEnv: { JZSE_SYNC_DEFAULT_STRATEGY: 'on_demand', JZSE_HEALTH_HEARTBEAT_INTERVAL: '1h', JZSE_HEALTH_OFFLINE_AFTER: '2h' },
    });
    token = readFileSync(cluster.adminTokenFile, 'utf8').trim();
    nc = await connect({ servers: cluster.natsUrl.split(','), timeout: 5000 });
  });

  after(async () => {
    await nc?.close().catch(() => undefined);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the event stream has 3 peers (replicas 3) and etcd 3 members', async () => {
    assert.ok(cluster !== undefined && nc !== undefined);
    const info = await (await jetstreamManager(nc)).streams.info('JZSE_EVENTS');
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.cluster?.name, 'jzse');
    const peers = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((r) => r.name)].sort();
    assert.deepEqual(peers, ['n1', 'n2', 'n3']);
    const etcd = new Etcd3({ hosts: [...cluster.etcdEndpoints] });
    try {
      const members = await etcd.cluster.memberList({});
      assert.deepEqual(members.members.map((m) => m.name).sort(), ['e1', 'e2', 'e3']);
    } finally {
      etcd.close();
    }
  });

  test('a change written through one coordinator is in the view the other serves', async () => {
    assert.ok(cluster !== undefined);
    const [writer, reader] = cluster.coordinators;
    assert.ok(writer !== undefined && reader !== undefined);
    const region = await call(writer.rest, 'PUT', '/api/v1/regions/eu-west', { name: 'Frankfurt', endpoint: 'fra:7000', location: { latitude: 50.1, longitude: 8.6, name: 'fra-1' }, capacity_bytes: 1_000_000 });
    assert.equal(region.status, 200, JSON.stringify(region.json));
    const written = await call(writer.rest, 'POST', '/api/v1/files', { file_id: 'cluster-file', region_id: 'eu-west', path: '/cluster/a.txt', size: 10, modified_at: at, vector_clock: { 'eu-west': 1 } });
    assert.equal(written.status, 201, JSON.stringify(written.json));
    const seq = (written.json['write'] as { sequence: number }).sequence;
    assert.ok(seq > 0);
    const read = await call(reader.rest, 'GET', `/api/v1/files/cluster-file?min_sequence=${seq}`);
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.ok(Number(read.json['view_sequence']) >= seq);
    assert.equal((read.json['file'] as { metadata: { path: string } }).metadata.path, '/cluster/a.txt');
    assert.equal((read.json['file'] as { origin: { sequence: number } }).origin.sequence, seq);
  });

  test('exactly one coordinator projects', async () => {
    assert.ok(cluster !== undefined);
    const leaders = await waitFor(async () => {
      const flags = await Promise.all(cluster?.coordinators.map(async (c) => /^jzse_leader 1$/m.test(await (await fetch(c.metrics)).text())) ?? []);
      return flags.filter(Boolean).length === 1 ? flags : undefined;
    }, { timeoutMs: 15_000, what: 'one coordinator with jzse_leader 1' });
    assert.equal(leaders.length, 2);
  });

  test('stop: every process exits, coordinators first (they resign)', async () => {
    assert.ok(cluster !== undefined);
    const pids = [...cluster.coordinators, cluster.postgres, ...cluster.etcd, ...cluster.nats].map((p) => p.pid());
    await cluster.stop();
    for (const pid of pids) {
      assert.ok(pid !== undefined);
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} still runs`);
    }
    const log = readFileSync(cluster.coordinators[0]?.log ?? '', 'utf8');
    assert.match(log, /"msg":"stopped"/);
    cluster = undefined;
  });
});
