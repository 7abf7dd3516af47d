// docs/security.md against the code: its table of gRPC methods is the guard's table (permission and
// the roles that hold it), and its roles are the roles of src/auth.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METHOD_PERMISSIONS } from '../../src/api/guard.js';
import { ROLES } from '../../src/auth/model.js';
import { REGION_SCOPED, rolesWith } from '../../src/auth/permissions.js';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';

const DOC = 'docs/security.md';
const doc = readDoc(DOC);

describe(`${DOC} against src/auth and src/api/guard.ts`, () => {
  test('every gRPC method, its permission and its roles', () => {
    const table = tableUnder(doc, DOC, '### Every gRPC method', ['method', 'permission', 'roles']);
    const documented = table.rows.map((r) => [codeSpans(r[0] ?? '')[0], codeSpans(r[1] ?? '')[0], r[2]?.trim()]);
    const actual = Object.entries(METHOD_PERMISSIONS).flatMap(([service, methods]) => Object.entries(methods).map(([method, p]) => [
      `${service}.${method}`, p,
      p === 'authenticated' ? 'any' : rolesWith(p).map((r) => (r === 'region' && REGION_SCOPED.has(p) ? 'region (own region)' : r)).join(', '),
    ]));
    assert.deepEqual(documented, actual);
  });

  test('the roles table names exactly the roles', () => {
    const table = tableUnder(doc, DOC, '## Principals and roles', ['role', 'may']);
    assert.deepEqual(table.rows.map((r) => codeSpans(r[0] ?? '')[0]), [...ROLES]);
  });
});
