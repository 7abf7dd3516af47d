// A long rebuild over REST: it reports progress while it folds, a cancellation stops it between two
// batches (leaving its prefix unwritten), and a rebuild run to the end writes exactly what
// `jzse rebuild --at <seq> --into <prefix>` writes for the same point. The NDJSON replay gives the
// same records as `jzse replay` with the same filters.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readEtcdEntries } from '../../src/audit/entries.js';
import { waitFor } from '../../src/util/waitFor.js';
import { publishBulk } from '../support/bulk.js';
import { jzse } from '../support/cli.js';
import { restBase, restClient, startRestStack, type RestStack } from '../support/rest.js';

const EVENTS = 30_000;

type Job = { id: string; state: string; progress: { done: number; total: number }; result: { at: { seq: number }; target: string; eventsFolded: number } | null; error: unknown; cancel_requested: boolean };

describe('rebuild jobs over REST', () => {
  let s: RestStack;
  let send: ReturnType<typeof restClient>;
  let last = 0;
  // Paged (a rebuild of 30,000 files is more than one etcd answer may carry).
  const under = async (prefix: string): Promise<Record<string, string>> => Object.fromEntries(await readEtcdEntries(s.stack.etcdClient, prefix));
  const job = async (id: string): Promise<Job> => ((await send('GET', `/api/v1/jobs/${id}`)).json as { job: Job }).job;
  const finished = (id: string, timeoutMs = 120_000) =>
    waitFor(async () => { const j = await job(id); return j.state === 'running' ? undefined : j; }, { timeoutMs, what: `job ${id} to finish` });

  before(async () => {
    s = await startRestStack();
    send = restClient(() => restBase(s.a), () => s.tokens.operator);
    last = await publishBulk(s.stack, EVENTS);
  });

  after(async () => {
    await s?.stop();
  });

  test('progress is reported, and a cancelled rebuild stops and writes nothing', async () => {
    const root = s.stack.config.etcd.prefix;
    const into = `${root}/rebuilds/cancelled`;
    const started = await send('POST', '/api/v1/jobs/rebuild', { body: { at: String(last), into, use_snapshots: false } });
    assert.equal(started.status, 202, started.text);
    const id = (started.json as { job: Job }).job.id;
    assert.equal(started.headers.get('location'), `/api/v1/jobs/${id}`);
    const midway = await waitFor(async () => {
      const j = await job(id);
      assert.equal(j.state, 'running', 'the rebuild finished before any progress was seen');
      return j.progress.done > 0 ? j : undefined;
    }, { timeoutMs: 60_000, intervalMs: 5, what: 'the rebuild to report progress' });
    assert.ok(midway.progress.total >= EVENTS && midway.progress.done < midway.progress.total, JSON.stringify(midway.progress));
    const cancel = await send('DELETE', `/api/v1/jobs/${id}`);
    assert.equal(cancel.status, 200, cancel.text);
    assert.equal((cancel.json as { job: Job }).job.cancel_requested, true);
    const end = await finished(id);
    assert.equal(end.state, 'cancelled');
    assert.ok(end.progress.done < end.progress.total);
    assert.deepEqual(await under(into), {}, 'a cancelled rebuild wrote its prefix');
    assert.equal((await send('DELETE', `/api/v1/jobs/${id}`)).status, 409, 'cancelling a finished job');
  });

  test('a rebuild run to the end equals jzse rebuild of the same point', async () => {
    const root = s.stack.config.etcd.prefix;
    const at = last - 1234;
    const started = await send('POST', '/api/v1/jobs/rebuild', { body: { at: String(at), into: `${root}/rebuilds/rest` } });
    assert.equal(started.status, 202, started.text);
    const end = await finished((started.json as { job: Job }).job.id);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    assert.equal(end.result?.at.seq, at);
    assert.equal(end.progress.done, end.progress.total);
    const cli = await jzse(s.stack, ['rebuild', '--at', String(at), '--into', `${root}/rebuilds/cli`, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const rest = await under(`${root}/rebuilds/rest`);
    const byCli = await under(`${root}/rebuilds/cli`);
    assert.ok(Object.keys(rest).length > EVENTS / 2);
    assert.deepEqual(rest, byCli);
  });

  test('the NDJSON replay gives what jzse replay gives for the same filters', async () => {
    const reply = await send('GET', `/api/v1/events?region=bulk&from_seq=${last - 50}&to_seq=${last - 10}&type=file.registered`, { token: s.tokens.auditor });
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = reply.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number });
    const cli = await jzse(s.stack, ['replay', '--region', 'bulk', '--from-seq', String(last - 50), '--to-seq', String(last - 10), '--type', 'file.registered', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const byCli = cli.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number });
    assert.equal(lines.length, 41);
    assert.deepEqual(lines, byCli);
    const limited = await send('GET', `/api/v1/events?region=bulk&limit=5`, { token: s.tokens.auditor });
    assert.equal(limited.text.split('\n').filter(Boolean).length, 5);
  });
});
