// The token cache: a verdict is reused for at most the TTL, a store outage keeps verified tokens
// working (never unknown ones), a revocation seen by the store wins once the TTL has passed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import { Authenticator, bearerToken, StoreUnreachable } from '../../src/auth/authenticator.js';
import type { Caller, Unverified } from '../../src/auth/model.js';

const TOKEN = `jzse_${'a'.repeat(16)}_${'b'.repeat(43)}`;
const OTHER = `jzse_${'c'.repeat(16)}_${'d'.repeat(43)}`;
const caller = (expiresAt: string | null = null): Caller => ({
  principal: { id: 'p1', name: 'ann', kind: 'person', grants: [{ role: 'auditor', region: null }], createdAt: '2026-01-01T00:00:00Z', disabledAt: null },
  token: { id: 'a'.repeat(16), principal: 'ann', name: 't', createdAt: '2026-01-01T00:00:00Z', expiresAt, lastUsedAt: null, revokedAt: null },
});

/** A store whose answer the test sets, counting the questions. */
const store = () => {
  let answer: E.Either<Unverified, Caller> | 'down' = E.right(caller());
  let asked = 0;
  return {
    set: (a: typeof answer) => (answer = a),
    asked: () => asked,
    verify: (_t: string) => {
      asked++;
      return answer === 'down' ? Promise.reject(new Error('connection refused')) : Promise.resolve(answer);
    },
  };
};

describe('Authenticator', () => {
  test('given a verified token, when asked again within the TTL, then the store is not asked', async () => {
    let now = 0;
    const s = store();
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => now });
    assert.ok(E.isRight(await auth.authenticate(TOKEN)));
    now = 499;
    assert.ok(E.isRight(await auth.authenticate(TOKEN)));
    assert.equal(s.asked(), 1);
  });

  test('given a token revoked in the store, when the TTL has passed, then it is refused', async () => {
    let now = 0;
    const s = store();
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => now });
    await auth.authenticate(TOKEN);
    s.set(E.left('revoked'));
    now = 500;
    assert.deepEqual(await auth.authenticate(TOKEN), E.left('revoked'));
  });

  test('given the store is down, a token verified before keeps working; an unknown one is not let in', async () => {
    let now = 0;
    const s = store();
    let stale = 0;
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => now, onStale: () => stale++ });
    await auth.authenticate(TOKEN);
    s.set('down');
    now = 60_000;
    assert.ok(E.isRight(await auth.authenticate(TOKEN)));
    assert.equal(stale, 1);
    await assert.rejects(auth.authenticate(OTHER), StoreUnreachable);
  });

  test('given the store is down, a cached token past its own expiry is not let in', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = store();
    s.set(E.right(caller('2026-01-01T00:00:01Z')));
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => now });
    assert.ok(E.isRight(await auth.authenticate(TOKEN)));
    s.set('down');
    now += 2000;
    await assert.rejects(auth.authenticate(TOKEN), StoreUnreachable);
  });

  test('given an expiry inside the TTL, the cached verdict is not reused past it', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = store();
    s.set(E.right(caller('2026-01-01T00:00:00.100Z')));
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => now });
    await auth.authenticate(TOKEN);
    s.set(E.left('expired'));
    now += 200;
    assert.deepEqual(await auth.authenticate(TOKEN), E.left('expired'));
  });

  test('forget drops a token at once; concurrent first uses ask the store once', async () => {
    const s = store();
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => 0 });
    await Promise.all([auth.authenticate(TOKEN), auth.authenticate(TOKEN), auth.authenticate(TOKEN)]);
    assert.equal(s.asked(), 1);
    auth.forget({ tokenId: 'a'.repeat(16) });
    s.set(E.left('revoked'));
    assert.deepEqual(await auth.authenticate(TOKEN), E.left('revoked'));
  });

  test('a malformed token never reaches the store; the cache is bounded', async () => {
    const s = store();
    const auth = new Authenticator(s.verify, { ttlMs: 500, now: () => 0, maxEntries: 2 });
    assert.deepEqual(await auth.authenticate('hunter2'), E.left('malformed'));
    assert.equal(s.asked(), 0);
    for (const c of 'efg') await auth.authenticate(`jzse_${c.repeat(16)}_${'b'.repeat(43)}`);
    await auth.authenticate(`jzse_${'e'.repeat(16)}_${'b'.repeat(43)}`);
    assert.equal(s.asked(), 4, 'the oldest was evicted, so asked again');
  });

  test('bearer header: the token, or why there is none', () => {
    assert.deepEqual(bearerToken(`Bearer ${TOKEN}`), E.right(TOKEN));
    assert.deepEqual(bearerToken(`bearer  ${TOKEN}`), E.right(TOKEN));
    assert.ok(E.isLeft(bearerToken(undefined)));
    assert.ok(E.isLeft(bearerToken(`Basic abc`)));
    assert.ok(E.isLeft(bearerToken(`Bearer a b`)));
  });
});
