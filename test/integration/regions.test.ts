// Regions written against docs/events.md alone, on real NATS and etcd. Each of four regions runs the
// example of "How a region reads its sync requests" as the page shows it (extracted from the page and
// imported, not a copy): a durable pull consumer on its own subject, apply, sync.acked by exactly the
// clocks sent, then the NATS ack; some first deliveries fail and are nak'ed, to be redelivered. Under
// the fork, merge and manual conflict strategies a concurrent workload of four regions must end with
// no pending entry left and every request message acked, the view equal to the fold of the log.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { isValidId } from '../../streams/ids.js';
import type { Coordinator } from '../../src/coordinator.js';
import { connectNats, type Nats } from '../../src/nats/connection.js';
import { ensureOutboundStream, streamSettings } from '../../src/nats/stream.js';
import { waitFor } from '../../src/util/waitFor.js';
import { publishWorkload } from '../support/publish.js';
import { asObject, startInProcess, startStack, viewAndFold, type Stack } from '../support/stack.js';

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
  return (await import(pathToFileURL(file).href)) as Example;
};

for (const strategy of ['fork', 'merge', 'manual'] as const) {
  describe(`regions that follow the docs, conflict strategy ${strategy}`, () => {
    let stack: Stack;
    let leader: Coordinator;
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
      leader = await startInProcess(stack, 'c1');
    });
    after(async () => {
      stop.abort();
      await Promise.all(serving);
      await regionNats.nc.close();
      await leader.stop();
      await stack.stop();
    });

    test('a concurrent workload ends with nothing pending; every request is acked both ways', async () => {
      await publishWorkload(stack, REGIONS, EVENTS, { seed: 7 });
      const view = await waitFor(() => {
        const v = leader.committedView();
        return v !== undefined && v.pending.size === 0 && v.seq > EVENTS ? v : undefined;
      }, { timeoutMs: 120_000, intervalMs: 200, what: 'no pending entry left' });

      const conflicts = [...view.conflicts.values()];
      assert.ok(conflicts.some((c) => c.strategy === strategy), `the workload caused ${strategy} conflicts (${conflicts.length} conflicts)`);
      if (strategy === 'fork') assert.ok([...view.files.keys()].some((id) => /:c[0-9a-z]+$/.test(id)), 'fork files exist');
      for (const id of view.files.keys()) assert.ok(isValidId(id), `file id ${id}`);

      const refused = [...view.rejected.values()].filter((r) => r.subject === 'jzse.sync.dispatched' || (r.eventId ?? '').startsWith('ack:sync:'));
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
