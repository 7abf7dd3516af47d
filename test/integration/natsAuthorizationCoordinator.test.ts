// A coordinator and its regions on the embedded nats-server with the generated authorization
// (Debian's 2.9.10): the coordinator logs in with the password it made under data_dir (its default,
// nothing passed), two regions run docs/events.md's example as their own NATS users, a concurrent
// write makes a conflict, and everything the coordinator does today still works: streams, default
// policy, dispatch, sync requests, conflict notices, the fold. Then `jzse replay` reads the stream
// with an auditor's token, and is refused with a region's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import bcrypt from 'bcryptjs';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import type { Grant, NatsUser } from '../../src/auth/model.js';
import { runJzse } from '../support/cli.js';
import { viewPrefix } from '../../src/config/derived.js';
import { startCoordinator, type Coordinator } from '../../src/coordinator.js';
import { inboxPrefix } from '../../src/nats/permissions.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startAuthorizedNats, type AuthorizedNats } from '../../src/stack/authorizedNats.js';
import { startEtcd, type EtcdServer } from '../../src/stack/processes.js';
import { waitFor } from '../../src/util/waitFor.js';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { CONFLICTS, REGIONS_STATUS, SYNC_DISPATCHED, syncAcksSubject } from '../../streams/subjects.js';
import { loadDocsExample } from '../support/docsExample.js';
import { fileRegistered, fileUpdated } from '../support/events.js';
import { configFromEnv } from '../support/servers.js';
import { regionRegistration } from '../support/workload.js';

const BOUND_MS = 30_000;

const mint = async (principal: string, grants: Grant[]) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
  const token = `jzse_${id}_${randomBytes(32).toString('base64url')}`;
  const user: NatsUser = { tokenId: id, bcrypt: await bcrypt.hash(token, 10), principal, grants };
  return { id, token, user };
};

type SyncFile = { fileId: string; clock: Record<string, number> };
type Example = {
  serveSyncRequests: (nc: NatsConnection, region: string, apply: (file: SyncFile) => Promise<void>, signal: AbortSignal) => Promise<void>;
};


describe('a coordinator and two regions on nats-server 2.9 with the generated authorization', () => {
  const output: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void output.push(line) });
  let dir: string;
  let etcd: EtcdServer;
  let nats: AuthorizedNats;
  let coordinator: Coordinator;
  let tokens: Awaited<ReturnType<typeof mint>>[];
  const regions: NatsConnection[] = [];
  const stop = new AbortController();
  const serving: Array<Promise<void>> = [];
  const applied = new Map<string, string[]>();
  let config: ReturnType<typeof configFromEnv>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jzse-natsauth-coord-'));
    etcd = await startEtcd(join(dir, 'etcd'));
    config = configFromEnv({
      JZSE_ETCD_ENDPOINTS: etcd.endpoint, JZSE_COORDINATOR_DATA_DIR: join(dir, 'data'), JZSE_COORDINATOR_METRICS_PORT: '0',
      JZSE_GRPC_PORT: '0', JZSE_AUTH_ENABLED: 'false', JZSE_ETCD_LEASE_TTL: '2s',
      JZSE_SYNC_DEFAULT_STRATEGY: 'eager', JZSE_HEALTH_HEARTBEAT_INTERVAL: '1h', JZSE_HEALTH_OFFLINE_AFTER: '2h',
    });
    tokens = await Promise.all([
      mint('region-r1', [{ role: 'region', region: 'r1' }]),
      mint('region-r2', [{ role: 'region', region: 'r2' }]),
      mint('ann@audit', [{ role: 'auditor', region: null }]),
    ]);
    const started = await startAuthorizedNats({ dir: join(dir, 'data', 'nats'), config, log });
    if (E.isLeft(started)) throw new Error(started.left);
    nats = started.right;
    // As main.ts would: the users before the coordinator, so regions may connect at once.
    const first = await nats.apply(tokens.map((t) => t.user));
    assert.ok(E.isRight(first) && first.right.consumerProblems.length === 0, E.isLeft(first) ? first.left : JSON.stringify(first.right));
    // nats.url is null (embedded): the coordinator finds its password under data_dir by itself.
    coordinator = await startCoordinator(config, { natsUrl: nats.server.url, etcd: [etcd.endpoint] }, log, createMetrics());
    await waitFor(() => coordinator.isLeader(), { timeoutMs: BOUND_MS, what: 'the coordinator to lead' });
    const example = await loadDocsExample<Example>('How a region reads its sync requests');
    for (const [i, region] of ['r1', 'r2'].entries()) {
      const t = tokens[i];
      assert.ok(t);
      const nc = await connect({ servers: nats.server.url, user: t.id, pass: t.token, inboxPrefix: inboxPrefix(t.id) });
      regions.push(nc);
      serving.push(example.serveSyncRequests(nc, region, (file) => {
        applied.set(region, [...(applied.get(region) ?? []), `${file.fileId}@${JSON.stringify(file.clock)}`]);
        return Promise.resolve();
      }, stop.signal));
    }
  });

  after(async () => {
    stop.abort();
    await Promise.all(serving);
    for (const nc of regions) await nc.close().catch(() => undefined);
    await coordinator?.stop();
    await nats?.stop();
    await etcd?.stop();
    const logs = output.join('');
    for (const s of [...tokens.map((t) => t.token), nats.credentials.pass]) assert.ok(!logs.includes(s), 'a token or password appears in the log');
    rmSync(dir, { recursive: true, force: true });
  });

  const serverLog = (): string => readFileSync(join(dir, 'data', 'nats', 'nats-server.log'), 'utf8');
  const viewKeys = async (collection: string): Promise<string[]> =>
    coordinator.etcd.getAll().prefix(`${viewPrefix(config)}/${collection}/`).keys();
  const subjectCount = async (stream: string, subject: string): Promise<number> =>
    (await coordinator.nats.jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;

  test('registrations, a change, a concurrent write: dispatched, requested, applied and acked by both regions, nothing pending or rejected', async () => {
    for (const [i, region] of ['r1', 'r2'].entries()) await coordinator.appender.append(regionRegistration(region, i + 1));
    const [r1, r2] = regions;
    assert.ok(r1 && r2);
    const publish = async (nc: NatsConnection, subject: string, event: { id: string }) =>
      jetstream(nc).publish(subject, JSON.stringify(event), { msgID: event.id });
    await publish(r1, 'jzse.changes.r1', fileRegistered({ region: 'r1', replicas: 2, at: new Date().toISOString() }));
    await waitFor(() => (applied.get('r2') ?? []).length > 0, { timeoutMs: BOUND_MS, what: "r2 to be sent r1's file" });
    // Both change the file from {r1: 1}: concurrent clocks, a conflict, settled last-writer-wins.
    await publish(r1, 'jzse.changes.r1', fileUpdated({ region: 'r1', clock: { r1: 2 }, at: new Date().toISOString() }));
    await publish(r2, 'jzse.changes.r2', fileUpdated({ region: 'r2', clock: { r1: 1, r2: 1 }, at: new Date().toISOString() }));
    await waitFor(async () => (await viewKeys('conflicts')).length === 1 && (await viewKeys('pending')).length === 0 && (await subjectCount(OUTBOUND_STREAM, CONFLICTS)) > 0,
      { timeoutMs: BOUND_MS, what: 'the conflict recorded and announced, and every pending entry acked' });
    assert.deepEqual(await viewKeys('rejected'), []);
    // Each door was used by the user it belongs to.
    for (const subject of [REGIONS_STATUS, SYNC_DISPATCHED, 'jzse.admin.policies', syncAcksSubject('r1'), syncAcksSubject('r2')]) {
      assert.ok((await subjectCount(config.nats.stream, subject)) > 0, subject);
    }
    assert.ok((applied.get('r1') ?? []).some((a) => a.includes('"r2":1')), 'r1 was sent the merged version');
    // Nobody who follows the docs ran into a permission of the layout.
    assert.doesNotMatch(serverLog(), /Violation/);
  });

  const cli = async (token: string | undefined, args: string[]) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'], JZSE_NATS_URL: nats.server.url, JZSE_COORDINATOR_DATA_DIR: join(dir, 'cli'),
      ...(token === undefined ? {} : { JZSE_TOKEN: token }),
    };
    return runJzse(args, env);
  };

  test("jzse replay reads the stream with an auditor's token; a region's token and no token are refused", async () => {
    const auditor = tokens[2];
    const region = tokens[0];
    assert.ok(auditor && region);
    const stored = (await coordinator.nats.jsm.streams.info(config.nats.stream)).state.messages;
    const read = await cli(auditor.token, ['replay', '--json']);
    assert.equal(read.code, 0, read.stderr);
    assert.ok(read.stdout.trim().split('\n').length >= stored, `${read.stdout.trim().split('\n').length} lines for ${stored} events`);
    const refused = await cli(region.token, ['replay', '--json']);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /permission|Permissions/i);
    assert.match(serverLog(), new RegExp(`Violation.*${region.id}|${region.id}.*Violation`));
    const anonymous = await cli(undefined, ['replay', '--json']);
    assert.equal(anonymous.code, 5, anonymous.stderr);
    assert.match(anonymous.stderr, /Authorization|authorization/);
    for (const r of [read, refused, anonymous]) for (const t of tokens) assert.ok(!(r.stdout + r.stderr).includes(t.token));
  });
});
