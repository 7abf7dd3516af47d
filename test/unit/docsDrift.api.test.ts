// docs/api.md's status codes against src/api/errors.ts: each code in the Errors table is one the
// server can produce — an ApiErrorCode that some code path in src/ passes to apiError (through
// toServiceError's mapping), or one grpc-js produces itself, with the integration test that sees
// it — and every ApiErrorCode is documented. Also: every example on the page is a block that
// test/integration/apiDocs.test.ts executes (it runs each ```json block, in order).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { REJECTION_CODES, type RejectionCode } from '../../projections/rejection.js';
import { STATUS_OF_REJECTION } from '../../src/api/errors.js';
import ts from 'typescript';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { ROOT, enclosing, usage } from '../support/tsUsage.js';

const DOC = 'docs/api.md';
const ERRORS = 'src/api/errors.ts';
const doc = readDoc(DOC);

/**
 * Codes grpc-js answers with on its own, before any handler runs: what in src/ makes it so, and the
 * integration test that observes it.
 */
const FROM_GRPC_JS: Record<string, { readonly source: string; readonly needs: string; readonly seenBy: string }> = {
  RESOURCE_EXHAUSTED: { source: 'src/api/server.ts', needs: "'grpc.max_receive_message_length': config.max_message_bytes", seenBy: 'test/integration/api.test.ts' },
  UNIMPLEMENTED: { source: 'src/api/server.ts', needs: 'server.addService(', seenBy: 'test/integration/api.fuzz.test.ts' },
};

const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

describe(`${DOC} against ${ERRORS}`, () => {
  const table = tableUnder(doc, DOC, '## Errors', ['code', 'when']);
  const documented = table.rows.map((r) => codeSpans(r[0] ?? '')[0] ?? '');

  const u = usage(['src']);
  const source = u.file(ERRORS);
  const declared: string[] = [];
  const functions = new Map<string, ts.VariableDeclaration>();
  ts.forEachChild(source, function visit(n): void {
    if (ts.isTypeAliasDeclaration(n) && n.name.text === 'ApiErrorCode' && ts.isUnionTypeNode(n.type)) {
      for (const t of n.type.types) if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) declared.push(t.literal.text);
    }
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && ts.isArrowFunction(n.initializer)) functions.set(n.name.text, n);
    ts.forEachChild(n, visit);
  });

  /** Each code passed to apiError by a code path that runs: outside errors.ts, or in a helper of it that is called outside. */
  const produced = (): Map<string, string[]> => {
    const apiError = functions.get('apiError');
    assert.ok(apiError, `${ERRORS}: no apiError`);
    const helpers = [...functions.values()].filter((f) => f !== apiError);
    const uses = u.usesOf([apiError, ...helpers], ['src']);
    const calledOutside = (f: ts.VariableDeclaration): boolean =>
      (uses.get(f) ?? []).some((x) => x.file !== ERRORS && ts.isCallExpression(x.node.parent) && x.node.parent.expression === x.node);
    const codes = new Map<string, string[]>();
    for (const use of uses.get(apiError) ?? []) {
      const callExpr = use.node.parent;
      if (!ts.isCallExpression(callExpr) || callExpr.expression !== use.node) continue;
      const code = callExpr.arguments[0];
      // The rejection table maps every domain code: each status in it is produced wherever the helper is called.
      const fromTable = code !== undefined && ts.isElementAccessExpression(code) && code.expression.getText() === 'STATUS_OF_REJECTION';
      assert.ok(code !== undefined && (ts.isStringLiteral(code) || fromTable), `${use.file}:${use.line}: apiError with a code that is not a literal`);
      if (use.file === ERRORS) {
        const helper = helpers.find((h) => enclosing(use.node, (n): n is ts.VariableDeclaration => n === h) !== undefined);
        if (helper === undefined || !calledOutside(helper)) continue;
      }
      const texts = fromTable ? [...new Set(Object.values(STATUS_OF_REJECTION))] : [(code as ts.StringLiteral).text];
      for (const text of texts) codes.set(text, [...(codes.get(text) ?? []), `${use.file}:${use.line}`]);
    }
    return codes;
  };

  test('the table lists each code once', () => {
    assert.ok(documented.length > 0);
    assert.equal(new Set(documented).size, documented.length, `${DOC} line ${table.line}: a code twice`);
    for (const code of documented) assert.ok(code in grpc.status, `${DOC}: ${code} is not a gRPC status code`);
  });

  test('every documented code can be produced, and every code the API produces is documented', () => {
    const codes = produced();
    for (const code of documented) {
      if (declared.includes(code)) {
        assert.ok(codes.has(code), `${DOC}: ${code} is an ApiErrorCode that no code path in src/ passes to apiError`);
        continue;
      }
      const native = FROM_GRPC_JS[code];
      assert.ok(native, `${DOC}: ${code} is neither an ApiErrorCode (${ERRORS}) nor a code grpc-js produces on its own here`);
      assert.ok(read(native.source).includes(native.needs), `${native.source}: no \`${native.needs}\`, which is what makes grpc-js answer ${code}`);
      assert.match(read(native.seenBy), new RegExp(`\\b${code}\\b`), `${native.seenBy} does not observe ${code}`);
    }
    for (const code of declared) assert.ok(documented.includes(code), `${ERRORS}: ApiErrorCode ${code} is not in ${DOC}'s Errors table`);
    for (const code of codes.keys()) assert.ok(declared.includes(code), `${ERRORS}: ${code} is produced but not an ApiErrorCode`);
  });

  test('toServiceError maps every ApiErrorCode to the gRPC status of that name', () => {
    assert.match(source.text, /code: grpc\.status\[e\.code\]/, `${ERRORS}: toServiceError's mapping changed; check this test`);
    for (const code of declared) assert.equal(typeof grpc.status[code as keyof typeof grpc.status], 'number', code);
  });

  test('the error examples are headed by documented codes', () => {
    for (const m of doc.matchAll(/^#### ([A-Z_]+): /gm)) assert.ok(documented.includes(m[1] ?? ''), `${DOC}: example heading ${m[0]}`);
  });
});

describe(`${DOC}: every example is one test/integration/apiDocs.test.ts runs`, () => {
  test('apiDocs.test.ts runs every ```json block', () => {
    const runner = read('test/integration/apiDocs.test.ts');
    assert.match(runner, /blocks\.filter\(\(b\) => b\.lang === 'json'\)/, 'apiDocs.test.ts no longer takes every json block; check this test');
    assert.match(runner, /for \(const example of examples\) \{\s*test\(/, 'apiDocs.test.ts no longer runs a test per example; check this test');
  });

  test('no request/response example hides in a block it skips', () => {
    const lines = doc.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const fence = /^\s*```(\S*)\s*$/.exec(lines[i] ?? '');
      if (!fence) continue;
      const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
      const body = lines.slice(i + 1, end).join('\n');
      if (fence[1] !== 'json') {
        assert.doesNotMatch(body, /"request"\s*:/, `${DOC} line ${i + 1}: an example in a \`\`\`${fence[1]} block is never run; make it \`\`\`json`);
      }
      i = end;
    }
  });
});

describe(`${DOC}: the rejection code table`, () => {
  test('lists every domain rejection code once, with the status STATUS_OF_REJECTION maps it to', () => {
    const table = tableUnder(doc, DOC, '## Write semantics', ['rejection code', 'status', 'e.g.']);
    const rows = table.rows.map((r) => [codeSpans(r[0] ?? '')[0] ?? '', codeSpans(r[1] ?? '')[0] ?? '']);
    assert.deepEqual(rows.map(([c]) => c).sort(), [...REJECTION_CODES].sort());
    for (const [code, status] of rows) assert.equal(status, STATUS_OF_REJECTION[code as RejectionCode], `${DOC}: ${code}`);
  });
});
