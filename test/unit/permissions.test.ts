// The roles of the identity issue as given/when/then: who may use which permission, for which region.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import type { Caller, Grant } from '../../src/auth/model.js';
import { authorize, PERMISSION_OF_EVENT, PERMISSIONS } from '../../src/auth/permissions.js';
import { eventCodecs } from '../../streams/events.js';

const given = (...grants: Grant[]): Caller => ({
  principal: { id: 'p', name: 'who', kind: 'person', grants, createdAt: '2026-01-01T00:00:00Z', disabledAt: null },
  token: { id: 'a'.repeat(16), principal: 'who', name: 't', createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null, revokedAt: null },
});
const admin: Grant = { role: 'admin', region: null };
const operator: Grant = { role: 'operator', region: null };
const auditor: Grant = { role: 'auditor', region: null };
const region = (r: string): Grant => ({ role: 'region', region: r });

describe('authorize', () => {
  test('admin: every permission, for any region', () => {
    for (const p of PERMISSIONS) assert.ok(E.isRight(authorize(given(admin), p, 'r9')), p);
  });
  test('auditor: reads, nothing else', () => {
    assert.ok(E.isRight(authorize(given(auditor), 'audit.read')));
    assert.ok(E.isRight(authorize(given(auditor), 'sync.read', 'r1')));
    for (const p of ['changes.write', 'regions.manage', 'conflicts.resolve', 'policies.write', 'identity.manage', 'view.maintain'] as const) {
      assert.match(E.isLeft(authorize(given(auditor), p)) ? (authorize(given(auditor), p) as E.Left<string>).left : '', /needs the .* role/, p);
    }
  });
  test('operator: regions, conflicts, policies, maintenance; never a region\'s own writes or identities', () => {
    for (const p of ['regions.manage', 'conflicts.resolve', 'policies.write', 'view.maintain', 'audit.read'] as const) assert.ok(E.isRight(authorize(given(operator), p)), p);
    for (const p of ['changes.write', 'sync.ack', 'regions.heartbeat', 'identity.manage'] as const) assert.ok(E.isLeft(authorize(given(operator), p)), p);
  });
  test('region: its own writes for its own region only', () => {
    const r1 = given(region('r1'));
    assert.ok(E.isRight(authorize(r1, 'changes.write', 'r1')));
    assert.deepEqual(authorize(r1, 'changes.write', 'r2'), E.left('who acts for region r1 only, not for r2'));
    assert.ok(E.isRight(authorize(r1, 'changes.write')), 'at the method, before the request names a region');
    assert.ok(E.isRight(authorize(r1, 'files.read', 'r2')), 'reads are not bound to the region');
    assert.ok(E.isLeft(authorize(r1, 'audit.read')));
    assert.ok(E.isLeft(authorize(r1, 'regions.manage', 'r1')), 'registering is an operator\'s');
  });
  test('several grants: the union; two regions', () => {
    const both = given(region('r1'), region('r2'), auditor);
    assert.ok(E.isRight(authorize(both, 'sync.ack', 'r2')));
    assert.ok(E.isRight(authorize(both, 'audit.read')));
    assert.deepEqual(authorize(both, 'sync.ack', 'r3'), E.left('who acts for region r1, r2 only, not for r3'));
  });
  test('no grant: nothing', () => {
    for (const p of PERMISSIONS) assert.ok(E.isLeft(authorize(given(), p)), p);
  });
  test('every event type needs a permission, and no API caller but an admin may write the coordinator\'s own', () => {
    assert.deepEqual(Object.keys(PERMISSION_OF_EVENT).sort(), Object.keys(eventCodecs).sort());
    assert.ok(E.isLeft(authorize(given(operator), PERMISSION_OF_EVENT['region.health'])));
  });
});
