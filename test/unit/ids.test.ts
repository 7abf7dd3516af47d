// Every id the coordinator makes up itself (fork file ids, sync request ids and their records,
// health verdicts, demands, conflict notices, the configured default policy, API event ids) obeys
// the documented id rule (docs/events.md: 1-128 chars of A-Z a-z 0-9 . _ : -) for any inputs that
// obey it themselves, and the events it builds with them decode as a region's would.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { forkFileId } from '../../projections/conflicts.js';
import { stepStored as step } from '../support/events.js';
import { decideHealth } from '../../projections/health.js';
import { decideSync } from '../../projections/sync.js';
import type { ConflictRecord } from '../../projections/view.js';
import { envelope } from '../../src/api/context.js';
import { demandEvent } from '../../src/api/services/metadata.js';
import { defaultPolicyEvent } from '../../src/sync/defaultPolicy.js';
import { noticeId } from '../../src/sync/conflictNotices.js';
import { requestId, requestRecord, type SyncRequestMessage } from '../../src/sync/dispatcher.js';
import { decodeValue } from '../../streams/decode.js';
import { derivedId, isValidId } from '../../streams/ids.js';
import { configFromEnv } from '../support/servers.js';
import { fileRegistered, fileUpdated, foldEvents, iso, policySet, regionRegistered, stored } from '../support/events.js';

fc.configureGlobal({ includeErrorInReport: true });

const id = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/),
  fc.stringMatching(/^[A-Za-z0-9._:-]{100,128}$/),
);
const region = fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), fc.stringMatching(/^[a-z0-9_-]{60,64}$/));
const attempt = fc.integer({ min: 1, max: 1_000_000 });
const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const instant = fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString());

const assertId = (value: string, what: string): void => assert.ok(isValidId(value), `${what}: ${JSON.stringify(value)} breaks the id rule`);
const assertDecodes = (event: unknown, what: string): void => {
  const decoded = decodeValue(event);
  assert.ok(E.isRight(decoded), `${what}: ${E.isLeft(decoded) ? decoded.left : ''}`);
};

describe('ids the coordinator creates obey the documented id rule', () => {
  test('fork file ids', () => {
    fc.assert(fc.property(id, id, (fileId, eventId) => {
      const fork = forkFileId(fileId, eventId);
      assertId(fork, 'fork id');
      assert.equal(fork, forkFileId(fileId, eventId), 'deterministic');
    }), { numRuns: 500 });
  });

  test('a fork in the fold: the fork file, and the leader\'s sync.requested naming it, are accepted', () => {
    fc.assert(fc.property(id, id, id, (fileId, localId, remoteId) => {
      fc.pre(new Set([localId, remoteId, 'first']).size === 3);
      const regions = ['r1', 'r2', 'r3'].map((r) => regionRegistered({ region: r }));
      const view = foldEvents(
        ...regions,
        policySet({ id: 'p-fork', pattern: '/data/**', conflict: 'fork', sync: 'eager' }),
        fileRegistered({ id: 'first', file: { fileId, path: '/data/x.txt' } }),
        fileUpdated({ id: localId, clock: { r1: 2 }, at: iso(1000), file: { fileId, path: '/data/x.txt', checksum: 'L' } }),
        fileUpdated({ id: remoteId, region: 'r2', clock: { r1: 1, r2: 1 }, at: iso(2000), file: { fileId, path: '/data/x.txt', checksum: 'R' } }),
      );
      assert.equal(view.rejected.size, 0, JSON.stringify([...view.rejected.values()]));
      assert.equal(view.files.size, 2, 'the file and its fork');
      for (const key of view.files.keys()) assertId(key, 'file id');
      const at = iso(10_000);
      let after = view;
      for (const d of decideSync(view, at, { batchSize: 100, flushIntervalMs: 1, ackTimeoutMs: 1000, maxBackoffMs: 1000 })) {
        const message: SyncRequestMessage = { schema: 1, id: requestId(d), region: d.region, reason: d.reason, at, files: d.items };
        const record = requestRecord(message, 'c1');
        assertId(record.id, 'sync.requested id');
        assertDecodes(record, 'sync.requested');
        after = step(after, stored(after.seq + 1, record, { storedAt: at })).view;
      }
      assert.equal(after.rejected.size, 0, JSON.stringify([...after.rejected.values()]));
      for (const p of after.pending.values()) assert.equal(p.requested?.attempt, 1, `${p.regionId}/${p.fileId} recorded as requested`);
    }), { numRuns: 150 });
  });

  test('sync request ids and their sync.requested records', () => {
    const item = fc.record({ fileId: id, eventId: id, seq, clock: fc.constant({}), deleted: fc.boolean(), attempt });
    fc.assert(fc.property(region, fc.array(item, { minLength: 1, maxLength: 5 }), instant, (r, items, at) => {
      const d = { region: r, reason: 'retry' as const, items };
      const message: SyncRequestMessage = { schema: 1, id: requestId(d), region: r, reason: d.reason, at, files: items };
      assertId(message.id, 'request id');
      const record = requestRecord(message, 'coordinator-1');
      assertId(record.id, 'sync.requested id');
      assertDecodes(record, 'sync.requested');
    }), { numRuns: 500 });
  });

  test('health verdict ids', () => {
    fc.assert(fc.property(region, instant, (r, lastSeen) => {
      const view = foldEvents(regionRegistered({ region: r, at: lastSeen }));
      const verdicts = decideHealth(view, new Date(Date.parse(view.regions.get(r)!.lastSeenAt) + 10_000).toISOString(), { heartbeatIntervalMs: 100, degradedAfterMissed: 3, offlineAfterMs: 1000 }, 'c1');
      assert.equal(verdicts.length, 1);
      for (const v of verdicts) {
        assertId(v.id, 'health id');
        assertDecodes(v, 'region.health');
      }
    }), { numRuns: 300 });
  });

  test('demand ids (GetFile of an on-demand file), however long the file and event ids', () => {
    fc.assert(fc.property(region, id, id, instant, (r, fileId, eventId, at) => {
      const demand = demandEvent(r, fileId, eventId, at);
      assertId(demand.id, 'demand id');
      assertDecodes(demand, 'sync.demanded');
      assert.notEqual(demandEvent(r, fileId, `${eventId.slice(0, 127)}${eventId.endsWith('x') ? 'y' : 'x'}`, at).id, demand.id, 'another version owed, another id');
    }), { numRuns: 500 });
  });

  test('conflict notice ids', () => {
    fc.assert(fc.property(id, fc.option(id, { nil: undefined }), (conflictId, resolvedBy) => {
      const c = { id: conflictId, status: resolvedBy === undefined ? 'open' : 'resolved', resolution: resolvedBy === undefined ? null : { eventId: resolvedBy } } as unknown as ConflictRecord;
      assertId(noticeId(c), 'notice id');
    }), { numRuns: 300 });
  });

  test('the configured default policy, and API events without an event_id', () => {
    const config = configFromEnv({ JZSE_NATS_URL: 'nats://127.0.0.1:1', JZSE_ETCD_ENDPOINTS: 'http://127.0.0.1:2' });
    fc.assert(fc.property(fc.stringMatching(/^[0-9]{1,19}$/), (term) => {
      const event = defaultPolicyEvent(config, term, iso(0));
      assertId(event.id, 'default policy id');
      assertDecodes(event, 'policy.set');
    }), { numRuns: 100 });
    for (let i = 0; i < 100; i++) assertId(envelope(null).id, 'API event id');
  });

  test('derivedId: within the rule, deterministic, and distinct for distinct long inputs', () => {
    fc.assert(fc.property(fc.array(id, { minLength: 1, maxLength: 4 }), id, (parts, other) => {
      const a = derivedId(...parts);
      assertId(a, 'derived id');
      assert.equal(a, derivedId(...parts));
      if (other !== parts[parts.length - 1]) assert.notEqual(derivedId(...parts.slice(0, -1), other), a);
    }), { numRuns: 500 });
  });
});
