// Regions written against docs/events.md alone, on real NATS and etcd. Each of four regions runs the
// example of "How a region reads its sync requests" as the page shows it (extracted from the page and
// imported, not a copy): a durable pull consumer on its own subject, apply, sync.acked by exactly the
// clocks sent, then the NATS ack; some first deliveries fail and are nak'ed, to be redelivered. Under
// the fork, merge and manual conflict strategies a concurrent workload of four regions must end with
// no pending entry left and every request message acked, the view equal to the fold of the log;
// once more under fork with the leader, its own process, killed by SIGKILL halfway.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { isValidId } from '../../streams/ids.js';
import { viewPrefix } from '../../src/config/derived.js';
import { type Coordinator } from '../../src/coordinator.js';
import { connectNats, type Nats } from '../../src/nats/connection.js';
import { ensureOutboundStream, streamSettings } from '../../src/nats/stream.js';
import { waitFor } from '../../src/util/waitFor.js';
import { publishWorkload } from '../support/publish.js';
import {
  asObject, leaderOf, readEtcdView, spawnCoordinator, startInProcess, startStack, viewAndFold, type ChildCoordinator, type Stack,
} from '../support/stack.js';

const REGIONS = ['r1', 'r2', 'r3', 'r4'];
const EVENTS = 1200;

type SyncFile = { fileId: string; eventId: string; seq: number; clock: Record<string, number>; deleted: boolean; attempt: number };
type SyncRequest = { id: string; region: string; files: SyncFile[] };
type Example = {
  serveSyncRequests: (nc: NatsConnection, region: string, apply: (file: SyncFile, request: SyncRequest) => Promise<void>, signal: AbortSignal) => Promise<void>;
};

/** The ```ts block of the section, written where its imports resolve (node_modules is not tracked). */
const loadExample = async (): Promise<Example> => {
  const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('How a region reads its sync requests'));
  assert.ok(section, 'docs/events.md has the section "How a region reads its sync requests"');
  const code = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(code, 'the section has a ```ts example');
  const dir = join(process.cwd(), 'node_modules', '.cache', 'jzse-docs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `regionExample-${process.pid}.ts`);
  writeFileSync(file, code);
  try {
    return (await import(pathToFileURL(file).href)) as Example;
  } finally {
    rmSync(file, { force: true });
  }
};

const RUNS = [
  { strategy: 'fork', kill: false }, { strategy: 'merge', kill: false }, { strategy: 'manual', kill: false },
  // The incident's shape: the leader, its own OS process, is killed with SIGKILL mid-workload.
  { strategy: 'fork', kill: true },
] as const;

/** The view as etcd holds it: pending keys, rejected entries, conflicts, file ids. */
const etcdView = async (stack: Stack) => {
  const prefix = `${viewPrefix(stack.config)}/`;
  const entries = [...(await readEtcdView(stack)).entries()].map(([k, v]) => [k.slice(prefix.length), v] as const);
  const of = <T>(collection: string): Array<[string, T]> => entries
    .filter(([k]) => k.startsWith(`${collection}/`)).map(([k, v]) => [decodeURIComponent(k.slice(collection.length + 1)), JSON.parse(v) as T]);
  const checkpoint = entries.find(([k]) => k === 'checkpoint');
  return {
    seq: checkpoint === undefined ? 0 : (JSON.parse(checkpoint[1]) as { seq: number }).seq,
    pending: of<unknown>('pending').length,
    files: of<unknown>('files').map(([k]) => k),
    conflicts: of<{ strategy: string }>('conflicts').map(([, c]) => c),
    rejected: of<{ subject: string; eventId: string | null }>('rejected').map(([, r]) => r),
  };
};

for (const { strategy, kill } of RUNS) {
  describe(`regions that follow the docs, conflict strategy ${strategy}${kill ? ', leader killed with SIGKILL' : ''}`, () => {
    let stack: Stack;
    let leader: Coordinator | undefined;
    const children: ChildCoordinator[] = [];
    let regionNats: Nats;
    const stop = new AbortController();
    const serving: Array<Promise<void>> = [];
    /** Per region and request id, how many times the region's `apply` saw it. */
    const seen = new Map<string, number>();
    const failedOnce = new Set<string>();

    before(async () => {
      stack = await startStack({
        JZSE_SYNC_DEFAULT_STRATEGY: 'lazy', JZSE_SYNC_BATCH_SIZE: '50', JZSE_SYNC_FLUSH_INTERVAL: '200ms',
        JZSE_SYNC_BROADCAST_TIMEOUT: '2s', JZSE_SYNC_MAX_BACKOFF: '4s', JZSE_CONFLICT_DEFAULT_STRATEGY: strategy,
      });
      await ensureOutboundStream(stack.client.jsm, streamSettings(stack.config), stack.config.sync.request_retention);
      const example = await loadExample();
      regionNats = await connectNats(stack.nats.url, 'regions');
      for (const region of REGIONS) {
        serving.push(example.serveSyncRequests(regionNats.nc, region, (file, request) => {
          const key = `${region}/${request.id}`;
          if (file === request.files[0]) seen.set(key, (seen.get(key) ?? 0) + 1);
          assert.ok(isValidId(file.fileId), `${region} was sent a file id outside the id rule: ${file.fileId}`);
          // r4 cannot apply the first delivery of its first few requests: it naks them (step 5).
          if (region === 'r4' && failedOnce.size < 3 && !failedOnce.has(key) && file === request.files[0]) {
            failedOnce.add(key);
            return Promise.reject(new Error('source region unreachable'));
          }
          return Promise.resolve();
        }, stop.signal));
      }
      if (kill) {
        children.push(spawnCoordinator(stack, 'c1'));
        await waitFor(async () => (await leaderOf(stack)) === 'c1', { timeoutMs: 30_000, what: 'c1 elected' });
        children.push(spawnCoordinator(stack, 'c2'));
      } else {
        leader = await startInProcess(stack, 'c1');
      }
    });
    after(async () => {
      stop.abort();
      await Promise.all(serving);
      await regionNats.nc.close();
      await leader?.stop();
      for (const c of children) {
        c.proc.kill('SIGTERM');
        await c.exited;
      }
      await stack.stop();
    });

    test('a concurrent workload ends with nothing pending; every request is acked both ways', async () => {
      let killed = false;
      await publishWorkload(stack, REGIONS, EVENTS, {
        seed: 7,
        onAck: async (n) => {
          if (!kill || killed || n < EVENTS / 2) return;
          killed = true;
          children[0]!.proc.kill('SIGKILL');
          await children[0]!.exited;
        },
      });
      assert.equal(killed, kill);
      if (kill) await waitFor(async () => (await leaderOf(stack)) === 'c2', { timeoutMs: 30_000, what: 'c2 takes over' });
      const view = await waitFor(async () => {
        const v = await etcdView(stack);
        return v.pending === 0 && v.seq > EVENTS ? v : undefined;
      }, { timeoutMs: 120_000, intervalMs: 500, what: 'no pending entry left' });

      assert.ok(view.conflicts.some((c) => c.strategy === strategy), `the workload caused ${strategy} conflicts (${view.conflicts.length} conflicts)`);
      if (strategy === 'fork') assert.ok(view.files.some((id) => /:c[0-9a-z]+$/.test(id)), 'fork files exist');
      for (const id of view.files) assert.ok(isValidId(id), `file id ${id}`);

      const refused = view.rejected.filter((r) => r.subject === 'jzse.sync.dispatched' || (r.eventId ?? '').startsWith('ack:sync:'));
      assert.deepEqual(refused, [], 'no request record and no ack of the documented procedure is refused');

      assert.equal(failedOnce.size, 3, 'r4 failed three first deliveries');
      for (const key of failedOnce) assert.ok((seen.get(key) ?? 0) >= 2, `${key} was delivered again after its nak`);
      for (const region of REGIONS) {
        const info = await waitFor(async () => {
          const i = await stack.client.jsm.consumers.info(OUTBOUND_STREAM, `jzse-sync-${region}`);
          return i.num_pending === 0 && i.num_ack_pending === 0 ? i : undefined;
        }, { what: `${region}'s consumer to have acked every request` });
        assert.equal(info.config.filter_subject, `jzse.sync.requests.${region}`);
        assert.equal(info.config.ack_policy, 'explicit');
        assert.ok(info.delivered.stream_seq > 0, `${region} was sent requests`);
      }
      const { actual, expected } = await viewAndFold(stack);
      assert.deepStrictEqual(asObject(actual), asObject(expected));
    });
  });
}
