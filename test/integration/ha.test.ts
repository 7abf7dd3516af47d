// High availability on real servers: region health verdicts in the log, and a leader paused past
// its lease that must not write and must come back as a follower.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent } from '../../streams/decode.js';
import { electionPrefix, fencingKey } from '../../src/config/derived.js';
import { readStream } from '../../src/nats/read.js';
import { delay, waitFor, withTimeout } from '../../src/util/waitFor.js';
import { auditFencing } from '../support/fencingAudit.js';
import { call, connectClients } from '../support/grpcClient.js';
import { publishWorkload } from '../support/publish.js';
import {
  asObject, checkpointOf, leaderOf, spawnCoordinator, startInProcess, viewAndFold,
  startStack, streamLastSeq, waitForCaughtUp, type Stack,
} from '../support/stack.js';

const healthVerdicts = async (stack: Stack) => {
  const out: Array<{ region: string; state: string }> = [];
  for await (const batch of readStream(stack.client.js, stack.client.jsm, stack.config.nats.stream)) {
    for (const m of batch) {
      const e = decodeEvent(m.subject, m.data);
      if (E.isRight(e) && e.right.type === 'region.health') out.push({ region: e.right.region, state: e.right.state });
    }
  }
  return out;
};

describe('high availability', () => {
  test('a silent region becomes degraded then offline through events in the log, and healthy when heard again', async () => {
    const stack = await startStack({ JZSE_HEALTH_HEARTBEAT_INTERVAL: '200ms', JZSE_HEALTH_DEGRADED_AFTER_MISSED: '2', JZSE_HEALTH_OFFLINE_AFTER: '1200ms' });
    const coordinator = await startInProcess(stack, 'c1');
    const clients = connectClients(coordinator.api.port);
    const beating = new AbortController();
    try {
      for (const id of ['r1', 'r2']) {
        const region = { id, name: id, endpoint: `${id}:1`, location: { latitude: 0, longitude: 0, name: '' }, capacity: { total_bytes: '1' } };
        assert.ok((await call(clients.RegionService, 'Register', { region, write: { wait_for_view: true } })).ok);
      }
      const heartbeat = (region: string) => call(clients.RegionService, 'Heartbeat', { region_id: region, status: { state: 'HEALTHY' } });
      const r1Beats = (async () => {
        while (!beating.signal.aborted) {
          await heartbeat('r1');
          await delay(100, beating.signal);
        }
      })();
      const activeIds = async () => {
        const reply = await call<{ regions: Array<{ id: string }> }>(clients.RegionService, 'GetActiveRegions', {});
        return reply.value?.regions.map((r) => r.id) ?? [];
      };
      await waitFor(async () => (await activeIds()).join() === 'r1', { what: 'r2 offline', timeoutMs: 15_000 });
      const r2 = await call<{ region: { status: { state: string } } }>(clients.RegionService, 'GetRegion', { region_id: 'r2' });
      assert.equal(r2.value?.region.status.state, 'OFFLINE');
      assert.deepEqual((await healthVerdicts(stack)).filter((v) => v.region === 'r2').map((v) => v.state), ['degraded', 'offline']);

      assert.ok((await heartbeat('r2')).ok);
      await waitFor(async () => (await activeIds()).join() === 'r1,r2', { what: 'r2 back', timeoutMs: 15_000 });
      const verdicts = await healthVerdicts(stack);
      assert.deepEqual(verdicts.filter((v) => v.region === 'r2').map((v) => v.state), ['degraded', 'offline', 'healthy']);
      assert.deepEqual(verdicts.filter((v) => v.region === 'r1'), [], 'a region that keeps beating is never judged');
      beating.abort();
      await withTimeout(r1Beats, 20_000, "r1's heartbeat loop to end");
      await waitForCaughtUp(stack);
      { const { actual, expected } = await viewAndFold(stack); assert.deepEqual(asObject(actual), asObject(expected)); }
    } finally {
      beating.abort();
      clients.close();
      await coordinator.stop();
      await stack.stop();
    }
  });

  test('a leader paused past its lease does not write, and rejoins as a follower', async () => {
    const stack = await startStack({ JZSE_ETCD_LEASE_TTL: '2s' });
    const first = spawnCoordinator(stack, 'first');
    await waitFor(async () => (await leaderOf(stack)) === 'first', { what: 'first elected', timeoutMs: 20_000 });
    const second = spawnCoordinator(stack, 'second');
    try {
      await waitFor(async () => {
        const keys = await stack.etcdClient.getAll().prefix(electionPrefix(stack.config)).keys();
        return keys.length === 2;
      }, { what: 'second campaigning', timeoutMs: 20_000 });
      await publishWorkload(stack, ['r1', 'r2'], 300, { seed: 21 });
      await waitForCaughtUp(stack);

      const loads = () => readFileSync(first.log, 'utf8').split('standby: warm view loaded from etcd').length - 1;
      const loadsBeforeDeposed = loads();
      first.proc.kill('SIGSTOP');
      await waitFor(async () => (await leaderOf(stack)) === 'second', { what: 'second takes over', timeoutMs: 20_000 });
      await publishWorkload(stack, ['r3'], 100, { seed: 22 });
      await waitForCaughtUp(stack);
      assert.match(readFileSync(second.log, 'utf8'), /"warm":true,"msg":"projector resumed"/, 'the follower took over from its warm view');
      first.proc.kill('SIGCONT');
      await publishWorkload(stack, ['r4'], 100, { seed: 23 });
      await waitForCaughtUp(stack);
      assert.equal(first.proc.exitCode, null, 'the resumed instance is still running');
      await waitFor(() => readFileSync(first.log, 'utf8').includes('lost leadership; campaigning again as a follower'), { what: 'first noticed it was deposed' });

      second.proc.kill('SIGKILL');
      await second.exit();
      const before = await streamLastSeq(stack);
      await waitFor(async () => (await leaderOf(stack)) === 'first', { what: 'first leads again', timeoutMs: 20_000 });
      await publishWorkload(stack, ['r5'], 50, { seed: 24 });
      await waitForCaughtUp(stack);
      assert.ok((await checkpointOf(stack)) > before, 'the resumed instance projects again as the new leader');
      assert.equal(loads(), loadsBeforeDeposed, 'the deposed leader kept its last committed view instead of reloading it from etcd');
      assert.match(readFileSync(first.log, 'utf8').split('\n').filter((l) => l.includes('projector resumed')).at(-1) ?? '', /"warm":true/, 'and led again from it');

      const audit = await auditFencing(stack.etcdClient, fencingKey(stack.config), electionPrefix(stack.config));
      assert.deepEqual(audit.violations, [], 'no commit by a deposed leader');
      assert.ok(audit.terms >= 3, `three leadership terms wrote (${audit.terms})`);
      { const { actual, expected } = await viewAndFold(stack); assert.deepEqual(asObject(actual), asObject(expected)); }
    } finally {
      for (const c of [first, second]) {
        c.proc.kill('SIGCONT');
        c.proc.kill('SIGKILL');
      }
      await stack.stop();
    }
  });

  test('SIGTERM stops the leader cleanly (exit 0) and hands leadership over at once, long before its lease expires', async () => {
    const stack = await startStack({ JZSE_ETCD_LEASE_TTL: '30s' });
    const first = spawnCoordinator(stack, 'first');
    await waitFor(async () => (await leaderOf(stack)) === 'first', { what: 'first elected', timeoutMs: 20_000 });
    const second = spawnCoordinator(stack, 'second');
    try {
      await waitFor(async () => (await stack.etcdClient.getAll().prefix(electionPrefix(stack.config)).keys()).length === 2, { what: 'second campaigning', timeoutMs: 20_000 });
      await publishWorkload(stack, ['r1'], 50, { seed: 31 });
      await waitForCaughtUp(stack);
      first.proc.kill('SIGTERM');
      assert.equal(await first.exit(), 0);
      // A 30 s lease cannot have expired within this wait: only a resignation explains the handover.
      await waitFor(async () => (await leaderOf(stack)) === 'second', { what: 'second takes over after the resignation', timeoutMs: 10_000 });
      await publishWorkload(stack, ['r2'], 50, { seed: 32 });
      await waitForCaughtUp(stack, 10_000);
      { const { actual, expected } = await viewAndFold(stack); assert.deepEqual(asObject(actual), asObject(expected)); }
    } finally {
      second.proc.kill('SIGKILL');
      first.proc.kill('SIGKILL');
      await stack.stop();
    }
  });
});
