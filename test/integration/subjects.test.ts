// The subject layout on a real nats-server: a stream created by older code (with the old subject
// list) gains the new subjects at start and keeps its messages; the appender's principal travels
// in the Jzse-Principal header and comes back from the reader as the entry's proven principal
// (a forged header on a region's own subject does not); regions on the legacy shared subjects
// still fold.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JetStreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { fold } from '../../projections/runner.js';
import { emptyView, type LogEntry } from '../../projections/view.js';
import { DEFAULT_STREAM, eventStreamConfig } from '../../streams/definition.js';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';
import { INPUT_SUBJECTS, REGIONS_STATUS, SYNC_ACKS, apiSubjectFor, changesSubject } from '../../streams/subjects.js';
import { createAppender } from '../../src/nats/appender.js';
import { connectNats, type Nats } from '../../src/nats/connection.js';
import { readEntries } from '../../src/nats/read.js';
import { ensureEventStream } from '../../src/nats/stream.js';
import { startNatsServer, type NatsServer } from '../../src/stack/processes.js';
import { quietLog } from '../support/stack.js';
import { encode, fileRegistered, policySet, regionHealth, regionHeartbeat, regionRegistered, syncAcked } from '../support/events.js';

/** The subjects the stream captured before regions had subjects of their own. */
const OLD_SUBJECTS = ['jzse.changes.*', 'jzse.sync.acks', 'jzse.sync.dispatched', 'jzse.sync.demands', 'jzse.regions.status', 'jzse.admin.>'];

const now = (): string => new Date().toISOString();

describe('subjects and principals on a real nats-server', () => {
  let dir: string;
  let server: NatsServer;
  let nats: Nats;
  let jsm: JetStreamManager;
  const stream = DEFAULT_STREAM.name;

  const entries = async (fromSeq: number): Promise<LogEntry[]> => {
    const out: LogEntry[] = [];
    for await (const batch of readEntries(nats.js, jsm, stream, { fromSeq })) out.push(...batch);
    return out;
  };
  const last = async (): Promise<number> => (await jsm.streams.info(stream)).state.last_seq;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jzse-subjects-'));
    server = await startNatsServer(join(dir, 'nats'));
    nats = await connectNats(server.url, 'subjects-test');
    jsm = nats.jsm;
  });
  after(async () => {
    await nats.nc.close().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('given a stream created with the old subject list, when the coordinator starts, then it captures the new subjects and keeps the old messages', async () => {
    await jsm.streams.add({ ...eventStreamConfig(DEFAULT_STREAM), subjects: OLD_SUBJECTS });
    const old = await nats.js.publish(REGIONS_STATUS, encode(regionRegistered({ region: 'r1', at: now() })), { msgID: 'join-r1' });

    await ensureEventStream(jsm, DEFAULT_STREAM, quietLog);

    const info = await jsm.streams.info(stream);
    assert.deepEqual([...info.config.subjects].sort(), [...INPUT_SUBJECTS].sort());
    assert.equal(info.state.messages, 1);
    for (const subject of ['jzse.sync.acks.r1', 'jzse.sync.demands.r1', 'jzse.regions.status.r1', 'jzse.api.admin.policies']) {
      const ack = await nats.js.publish(subject, encode({}), { expect: { streamName: stream } });
      assert.equal(ack.stream, stream, subject);
    }
    assert.equal((await jsm.streams.getMessage(stream, { seq: old.seq }))?.subject, REGIONS_STATUS);
  });

  test('the appender sets Jzse-Principal; the reader gives it back where it is trusted, and the subject elsewhere', async () => {
    const appender = createAppender(nats.js, { stream }, quietLog);
    const from = (await last()) + 1;
    await appender.append(regionHealth({ region: 'r1', at: now() }), undefined, 'coordinator:c1');
    const policy = policySet({ id: 'p-api', operator: 'alice' });
    await appender.appendBytes(apiSubjectFor(policy), encode(policy), policy.id, policy.type, undefined, 'alice');
    await appender.append(policySet({ id: 'p-bare' }));
    const forged = headers();
    forged.set(PRINCIPAL_HEADER, 'coordinator:c1');
    await nats.js.publish(changesSubject('r1'), encode(fileRegistered({ region: 'r1', at: now() })), { msgID: 'forged', headers: forged });
    // An appender's header on a region's own subject proves nothing either: the subject decides.
    await appender.append(regionHeartbeat({ region: 'r1', at: now() }), undefined, 'coordinator:c1');

    const got = (await entries(from)).map((e) => [e.subject, e.principal]);
    assert.deepEqual(got, [
      ['jzse.regions.status', 'coordinator:c1'],
      ['jzse.api.admin.policies', 'alice'],
      ['jzse.admin.policies', null],
      ['jzse.changes.r1', 'region:r1'],
      ['jzse.regions.status.r1', 'region:r1'],
    ]);
  });

  test('given regions on the legacy shared subjects, when their acks and heartbeats are folded, then they apply as on their own', async () => {
    const from = (await last()) + 1;
    const at = now();
    const publish = (subject: string, event: { id: string }) => nats.js.publish(subject, encode(event), { msgID: event.id });
    await publish(REGIONS_STATUS, regionRegistered({ region: 'r2', at }));
    await publish(changesSubject('r1'), fileRegistered({ id: 'legacy-f', region: 'r1', at, file: { fileId: 'legacy-f' } }));
    await publish(SYNC_ACKS, syncAcked({ id: 'legacy-ack', region: 'r2', at, files: [{ fileId: 'legacy-f', clock: { r1: 1 } }] }));
    await publish(REGIONS_STATUS, regionHeartbeat({ id: 'legacy-hb', region: 'r2', at: new Date(Date.now() + 1).toISOString() }));

    const view = fold(emptyView(), await entries(1));
    const since = [...view.rejected.values()].filter((r) => r.seq >= from);
    assert.deepEqual(since, []);
    assert.equal(view.files.get('legacy-f')?.locations.find((l) => l.regionId === 'r2')?.state, 'synced');
    assert.equal(view.regions.get('r2')?.recentEventIds.includes('legacy-hb'), true);
  });
});
