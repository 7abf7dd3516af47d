// `npm start` on a fresh machine: no set-up, embedded servers and store, the first admin's token
// printed once and written mode 0600, `jzse` managing principals and tokens with it; a second start
// makes no new admin. And no token the run issued appears in any output or file but where it was
// handed over (the CLI's answer), and the bootstrap token only in its one notice and its file.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { runJzse } from '../support/cli.js';
import { TOKEN_PATTERN } from '../../src/auth/model.js';
import { waitFor, withTimeout } from '../../src/util/waitFor.js';
import { call, connectClients } from '../support/grpcClient.js';

const dir = mkdtempSync(join(tmpdir(), 'jzse-first-start-'));
const dataDir = join(dir, 'data');
const output = join(dir, 'coordinator.out');
const env = {
  ...process.env, JZSE_CONFIG: undefined, JZSE_COORDINATOR_DATA_DIR: dataDir, JZSE_GRPC_PORT: '0', JZSE_COORDINATOR_METRICS_PORT: '0',
  JZSE_COORDINATOR_LOG_LEVEL: 'debug', JZSE_NATS_URL: undefined, JZSE_ETCD_ENDPOINTS: undefined, DATABASE_URL: undefined, JZSE_DATABASE_URL: undefined,
};

let proc: ChildProcess | undefined;
let starts = 0;
const start = async (): Promise<string> => {
  starts++;
  const fd = openSync(output, 'a');
  const started = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  proc = started;
  const ready = await waitFor(() => {
    const lines = readFileSync(output, 'utf8').split('\n').filter((l) => l.includes('"coordinator ready"'));
    if (started.exitCode !== null) throw new Error(`the coordinator exited with ${started.exitCode}; see ${output}`);
    // This start's line: each start logs exactly one.
    return lines.length >= starts ? (JSON.parse(lines[starts - 1] ?? '{}') as { grpc?: string }).grpc : undefined;
  }, { timeoutMs: 120_000, intervalMs: 100, what: 'the coordinator to be ready' });
  return ready;
};
const stop = async (): Promise<void> => {
  const p = proc;
  if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGTERM');
  await withTimeout(exited, 45_000, 'the coordinator to stop');
};

const jzse = async (...args: string[]) => {
  const r = await runJzse(['--json', ...args], { ...env, JZSE_TOKEN: undefined });
  return { ...r, json: () => JSON.parse(r.stdout.trim().split('\n')[0] ?? 'null') as Record<string, unknown> };
};

/** Every file under `root`, read as bytes (binary ones too: a token is ASCII wherever it lands). */
const filesUnder = (root: string): string[] =>
  readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(root, e.name)) : e.isFile() ? [join(root, e.name)] : []));
const occurrences = (haystack: Buffer, needle: string): number => {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
};

describe('the first start', () => {
  after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints the first admin token once, writes it mode 0600, and jzse manages principals and tokens with it', async () => {
    const address = await start();
    const printed = /token \(shown once\): (\S+)/.exec(readFileSync(output, 'utf8'))?.[1] ?? '';
    assert.match(printed, TOKEN_PATTERN);
    const file = join(dataDir, 'admin.token');
    assert.equal(readFileSync(file, 'utf8').trim(), printed);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const who = await jzse('--grpc', address, 'whoami');
    assert.equal(who.code, 0, who.stderr);
    assert.equal((who.json()['principal'] as { name: string }).name, 'admin');

    const made = await jzse('--grpc', address, 'principal', 'create', 'eu-west', '--kind', 'region', '--role', 'region:eu-west', '--issue-token', 'boot');
    assert.equal(made.code, 0, made.stderr);
    const regionToken = String(made.json()['token']);
    assert.match(regionToken, TOKEN_PATTERN);
    const auditor = await jzse('--grpc', address, 'principal', 'create', 'ann', '--role', 'auditor');
    assert.equal(auditor.code, 0, auditor.stderr);
    const issued = await jzse('--grpc', address, 'token', 'issue', 'ann', '--name', 'laptop', '--expires', '30d');
    assert.equal(issued.code, 0, issued.stderr);
    const annToken = String(issued.json()['token']);
    const annId = String((issued.json()['info'] as { id: string }).id);

    // The tokens work, by role, and revocation and rotation hold.
    const ann = connectClients(Number(address.split(':')[1]), annToken);
    assert.ok((await call(ann.RegionService, 'GetActiveRegions', {})).ok);
    assert.equal((await call(ann.RegionService, 'Deregister', { region_id: 'eu-west' })).error?.code, grpc.status.PERMISSION_DENIED);
    const rotated = await jzse('--grpc', address, 'token', 'rotate', annId);
    assert.equal(rotated.code, 0, rotated.stderr);
    const annNew = String(rotated.json()['token']);
    assert.equal((await call(ann.RegionService, 'GetActiveRegions', {})).error?.code, grpc.status.UNAUTHENTICATED, 'the rotated-out token is refused');
    ann.close();
    const listed = await jzse('--grpc', address, 'token', 'list', '--principal', 'ann');
    assert.equal(listed.stdout.trim().split('\n').length, 2, 'the old (revoked) and the new token');
    assert.ok(!listed.stdout.includes(annNew) && !listed.stdout.includes(annToken), 'a list never shows a secret');
    const denied = await runJzse(['--grpc', address, '--token', regionToken, 'principal', 'list'], env);
    assert.equal(denied.code, 4, 'a region token may not manage principals (exit 4: refused)');

    await stop();
    const second = await start();
    assert.ok(second.length > 0);
    const all = readFileSync(output, 'utf8');
    assert.equal(occurrences(Buffer.from(all), 'token (shown once)'), 1, 'a second start makes no new admin');
    await stop();

    // No secret anywhere: the bootstrap token only in its notice and its file; the issued ones nowhere.
    for (const path of [output, ...filesUnder(dir)]) {
      const bytes = readFileSync(path);
      for (const t of [regionToken, annToken, annNew]) assert.equal(occurrences(bytes, t), 0, `${path} holds an issued token`);
      for (const t of [regionToken, annToken, annNew, printed]) {
        const expected = t === printed && (path === file || path === output) ? 1 : 0;
        assert.equal(occurrences(bytes, t.slice(-43)), expected, `${path}: a token's secret`);
      }
    }
  });
});
