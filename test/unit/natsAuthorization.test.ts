// The generated nats-server authorization, without a server: who gets which permissions, that the
// block is the same for the same users in any order, that bad entries are left out and said so, and
// that no value can end its string. (test/integration/natsAuthorization.test.ts runs it on nats-server.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type { NatsUser } from '../../src/auth/model.js';
import { authorizationBlock, quote, type AuthorizationInput } from '../../src/nats/authorization.js';
import { configuredCredentials, coordinatorBcrypt, coordinatorPasswordFile, ensurePasswordFile } from '../../src/nats/credentials.js';
import { coordinatorEntry, natsConfigText } from '../../src/nats/natsConfigText.js';
import { COORDINATOR_ONLY, permissionsFor, regionSubjects } from '../../src/nats/permissions.js';
import { natsServerConfigText } from '../../src/stack/natsConfig.js';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { configFromEnv } from '../support/servers.js';

const streams = { eventStream: 'JZSE_EVENTS', syncStream: 'JZSE_SYNC' };
// Shaped like bcrypt hashes; nothing here checks a password against them.
const HASH = `$2b$10$${'a'.repeat(53)}`;
const coordinator = { user: 'jzse-coordinator', bcrypt: `$2b$04$${'c'.repeat(53)}` };
const user = (tokenId: string, grants: NatsUser['grants'], principal = `p-${tokenId}`): NatsUser => ({ tokenId, bcrypt: HASH, principal, grants });
const block = (users: NatsUser[], o: Partial<AuthorizationInput> = {}) => {
  const b = authorizationBlock({ coordinator, users, ...streams, ...o });
  if (E.isLeft(b)) throw new Error(b.left);
  return b.right;
};

const R1 = user('aaaaaaaaaaaaaaaa', [{ role: 'region', region: 'r1' }]);
const R2 = user('bbbbbbbbbbbbbbbb', [{ role: 'region', region: 'r2' }]);
const AUDITOR = user('cccccccccccccccc', [{ role: 'auditor', region: null }]);
const ADMIN = user('dddddddddddddddd', [{ role: 'admin', region: null }, { role: 'operator', region: null }]);
const BOTH = user('eeeeeeeeeeeeeeee', [{ role: 'region', region: 'r4' }, { role: 'auditor', region: null }, { role: 'region', region: 'r3' }]);

describe('permissionsFor', () => {
  test('a region user: its four subjects and its consumer, its inbox, nothing of the coordinator', () => {
    const p = permissionsFor('aaaaaaaaaaaaaaaa', { regions: ['r1'], reader: false }, streams);
    assert.ok(p);
    assert.deepEqual(p.publish.allow, [
      '$JS.ACK.JZSE_SYNC.jzse-sync-r1.>', '$JS.API.CONSUMER.INFO.JZSE_SYNC.jzse-sync-r1', '$JS.API.CONSUMER.MSG.NEXT.JZSE_SYNC.jzse-sync-r1', '$JS.API.INFO',
      'jzse.changes.r1', 'jzse.regions.status.r1', 'jzse.sync.acks.r1', 'jzse.sync.demands.r1',
    ]);
    assert.deepEqual(p.publish.deny, [...COORDINATOR_ONLY].sort());
    assert.deepEqual(p.subscribe.allow, ['_INBOX_aaaaaaaaaaaaaaaa.>']);
  });

  test('a reader (auditor, operator, admin): reads of the event stream only, and every jzse. subject denied', () => {
    const p = permissionsFor('cccccccccccccccc', { regions: [], reader: true }, streams);
    assert.ok(p);
    assert.ok(p.publish.allow.every((s) => s.startsWith('$JS.API.') && (s === '$JS.API.INFO' || s.includes('.JZSE_EVENTS'))), p.publish.allow.join(' '));
    assert.ok(p.publish.deny.includes('jzse.>'));
  });

  test('several grants: the union; an auditor that is also a region keeps its region subjects (deny wins in nats-server)', () => {
    const p = permissionsFor('eeeeeeeeeeeeeeee', { regions: ['r3', 'r4'], reader: true }, streams);
    assert.ok(p);
    for (const s of [...regionSubjects('r3'), ...regionSubjects('r4'), '$JS.API.STREAM.INFO.JZSE_EVENTS']) assert.ok(p.publish.allow.includes(s), s);
    assert.ok(!p.publish.deny.includes('jzse.>'));
  });

  test('no region and no reader grant: no NATS user', () => {
    assert.equal(permissionsFor('dddddddddddddddd', { regions: [], reader: false }, streams), undefined);
  });
});

describe('authorizationBlock', () => {
  test('the same users in any order, with grants in any order, give the same text', () => {
    const users = [R1, R2, AUDITOR, ADMIN, BOTH];
    fc.assert(fc.property(fc.shuffledSubarray(users, { minLength: users.length }), fc.boolean(), (shuffled, flip) => {
      const again = flip ? shuffled.map((u) => ({ ...u, grants: [...u.grants].reverse() })) : shuffled;
      assert.equal(block(again).text, block(users).text);
    }));
  });

  test('one user per token with a region or reader grant, the coordinator first; a token with no grant gets none', () => {
    const NONE = user('ffffffffffffffff', []);
    const b = block([R2, ADMIN, NONE, R1, AUDITOR, BOTH]);
    assert.deepEqual(b.users, [R1.tokenId, R2.tokenId, AUDITOR.tokenId, ADMIN.tokenId, BOTH.tokenId]);
    assert.deepEqual(b.regions, ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(b.skipped, []);
    assert.ok(!b.text.includes(NONE.tokenId));
    assert.ok(b.text.indexOf('"jzse-coordinator"') < b.text.indexOf(`"${R1.tokenId}"`));
    // Admin and operator read like an auditor: the same permissions, nothing more.
    const permsOf = (id: string) => b.text.slice(b.text.indexOf(`"${id}"`)).split('\n    }')[0]?.split('permissions:')[1]?.replaceAll(id, '<id>');
    assert.equal(permsOf(ADMIN.tokenId), permsOf(AUDITOR.tokenId));
  });

  test('entries that are not what the store should give are left out, said why, and never shown whole', () => {
    const secretish = `jzse_${'f'.repeat(16)}_${'S'.repeat(43)}`;
    const b = block([
      user(secretish, [{ role: 'region', region: 'r1' }], 'region-r1'),
      { ...user('gggggggggggggggg', [{ role: 'region', region: 'r1' }]), bcrypt: 'plaintext' },
      user('hhhhhhhhhhhhhhhh', [{ role: 'region', region: 'r1"] } ] }, { user: "x' }]),
      user('iiiiiiiiiiiiiiii', [{ role: 'region', region: null }]),
      R1, { ...R1, principal: 'again' },
    ]);
    assert.deepEqual(b.users, [R1.tokenId]);
    assert.deepEqual(b.skipped.map((s) => s.tokenId), ['(malformed)', 'gggggggggggggggg', 'hhhhhhhhhhhhhhhh', 'iiiiiiiiiiiiiiii', R1.tokenId]);
    const said = JSON.stringify(b.skipped);
    assert.ok(!said.includes('SSSS') && !said.includes('plaintext'), said);
    assert.ok(!b.text.includes('"x') && !b.text.includes(secretish));
  });

  test('a principal name outside the name rule is not written, even in a comment', () => {
    const b = block([{ ...R1, principal: 'mallory\n}\nauthorization { users = [ { user: "x" } ] }' }]);
    assert.ok(b.text.includes('principal (name not shown)'));
    assert.ok(!b.text.includes('mallory'));
  });

  test('a bad coordinator entry or stream name is refused as a whole', () => {
    for (const o of [{ coordinator: { ...coordinator, user: 'a b' } }, { coordinator: { ...coordinator, bcrypt: 'secret' } }, { eventStream: 'A.B' }, { syncStream: '' }]) {
      assert.ok(E.isLeft(authorizationBlock({ coordinator, users: [R1], ...streams, ...o })), JSON.stringify(o));
    }
  });

  test('quote: any string becomes one nats-server string of safe bytes and \\xHH escapes that decode back to it', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      const q = quote(s);
      assert.match(q, /^"([A-Za-z0-9$._>*/+=-]|\\x[0-9a-f]{2})*"$/);
      const bytes = [...q.slice(1, -1).matchAll(/\\x([0-9a-f]{2})|([^\\])/g)].map((m) => (m[1] !== undefined ? parseInt(m[1], 16) : (m[2] ?? '').charCodeAt(0)));
      assert.equal(new TextDecoder().decode(new Uint8Array(bytes)), s);
    }));
  });
});

describe('the embedded server configuration and the printed block', () => {
  test('paths are quoted and escaped; a control character is refused', () => {
    const text = natsServerConfigText({ client: 4222, monitor: 8222, storeDir: '/tmp/a "b"\\c' });
    assert.ok(E.isRight(text) && text.right.includes('store_dir: "/tmp/a \\"b\\"\\\\c"'), E.isRight(text) ? text.right : text.left);
    assert.ok(E.isLeft(natsServerConfigText({ client: 1, monitor: 2, storeDir: '/tmp/a\nb' })));
  });

  test('natsConfigText: how to apply it, then the block; coordinatorEntry needs nats.user', async () => {
    const printed = natsConfigText([R1], { coordinator, eventStream: 'JZSE_EVENTS' });
    assert.ok(E.isRight(printed));
    assert.match(printed.right.text, /nats-server --signal reload/);
    assert.ok(printed.right.text.endsWith(block([R1]).text));
    const dir = mkdtempSync(join(tmpdir(), 'jzse-natsconf-'));
    try {
      assert.ok(E.isLeft(await coordinatorEntry(configFromEnv({ JZSE_COORDINATOR_DATA_DIR: dir }))));
      writeFileSync(join(dir, 'pw'), 'p4ssw0rd-of-the-operator\n');
      const entry = await coordinatorEntry(configFromEnv({ JZSE_COORDINATOR_DATA_DIR: dir, JZSE_NATS_URL: 'nats://127.0.0.1:4222', JZSE_NATS_USER: 'coord', JZSE_NATS_PASSWORD_FILE: join(dir, 'pw') }));
      assert.ok(E.isRight(entry) && entry.right.user === 'coord' && (await bcrypt.compare('p4ssw0rd-of-the-operator', entry.right.bcrypt)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the coordinator's NATS credentials", () => {
  test('the password file is made once with mode 0600 and kept; its bcrypt is stable and verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jzse-natspw-'));
    try {
      const config = configFromEnv({ JZSE_COORDINATOR_DATA_DIR: dir });
      const file = coordinatorPasswordFile(config);
      assert.deepEqual(configuredCredentials(config), E.right(undefined), 'no file yet: no credentials');
      const first = ensurePasswordFile(file);
      const second = ensurePasswordFile(file);
      assert.ok(E.isRight(first) && E.isRight(second));
      assert.equal(first.right.created, true);
      assert.equal(second.right.created, false);
      assert.equal(second.right.password, first.right.password);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const hash = await coordinatorBcrypt(first.right.password);
      assert.equal(await coordinatorBcrypt(first.right.password), hash);
      assert.equal(await bcrypt.compare(first.right.password, hash), true);
      assert.deepEqual(configuredCredentials(config), E.right({ user: 'jzse-coordinator', pass: first.right.password }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an external server: nats.user with nats.password_file; either alone, or an unreadable file, is refused without the password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jzse-natspw-'));
    try {
      const env = { JZSE_COORDINATOR_DATA_DIR: dir, JZSE_NATS_URL: 'nats://127.0.0.1:4222' };
      writeFileSync(join(dir, 'pw'), 's3cret-from-the-operator\n');
      assert.deepEqual(configuredCredentials(configFromEnv({ ...env, JZSE_NATS_USER: 'coord', JZSE_NATS_PASSWORD_FILE: join(dir, 'pw') })),
        E.right({ user: 'coord', pass: 's3cret-from-the-operator' }));
      assert.deepEqual(configuredCredentials(configFromEnv(env)), E.right(undefined));
      assert.ok(E.isLeft(configuredCredentials(configFromEnv({ ...env, JZSE_NATS_PASSWORD_FILE: join(dir, 'pw') }))));
      const missing = configuredCredentials(configFromEnv({ ...env, JZSE_NATS_USER: 'coord', JZSE_NATS_PASSWORD_FILE: join(dir, 'nope') }));
      assert.ok(E.isLeft(missing) && missing.left.includes('ENOENT'));
      writeFileSync(join(dir, 'two'), 'one two\n');
      const two = configuredCredentials(configFromEnv({ ...env, JZSE_NATS_USER: 'coord', JZSE_NATS_PASSWORD_FILE: join(dir, 'two') }));
      assert.ok(E.isLeft(two) && !two.left.includes('one two'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/nats.md: the permission layout table is permissionsFor\'s', () => {
  test('every subject, for a region user and a reader user (auditor, operator, admin), as the code gives them', () => {
    const DOC = 'deploy/nats.md';
    const table = tableUnder(readDoc(DOC), DOC, '## Permission layout', ['subject', 'region user', 'reader user', 'why']);
    const documented = new Map(table.rows.map((r) => [codeSpans(r[0] ?? '')[0] ?? '', [r[1], r[2]]]));
    const cells = (g: { regions: string[]; reader: boolean }) => {
      const p = permissionsFor('<token id>', g, streams);
      assert.ok(p);
      return new Map([
        ...p.publish.allow.map((x) => [x, 'publish'] as const), ...p.publish.deny.map((x) => [x, 'denied'] as const),
        ...p.subscribe.allow.map((x) => [x, 'subscribe'] as const)]);
    };
    const region = cells({ regions: ['<r>'], reader: false });
    const auditor = cells({ regions: [], reader: true });
    const actual = new Map([...new Set([...region.keys(), ...auditor.keys()])].map((x) => [x, [region.get(x) ?? '—', auditor.get(x) ?? '—']]));
    assert.deepEqual([...documented.keys()].sort(), [...actual.keys()].sort(), `${DOC} line ${table.line}: the subjects`);
    for (const [subject, roles] of actual) assert.deepEqual(documented.get(subject), roles, `${DOC}: ${subject}`);
  });
});
