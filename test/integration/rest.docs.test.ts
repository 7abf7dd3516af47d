// docs/rest.md is executed: its sh blocks, in order, in one bash (variables carry over) against a
// fresh coordinator with tokens on, $REST its address and $JZSE_TOKEN the first admin's token. The
// block after each sh block is what it must print: JSON shows part of the answer ("…" any value,
// lists whole), text is exact.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { withTimeout } from '../../src/util/waitFor.js';
import { after, before, describe, test } from 'node:test';
import type { Coordinator } from '../../src/coordinator.js';
import type { IdentityStore } from '../../src/store/identity.js';
import { readDoc } from '../support/markdown.js';
import { startAuthStack } from '../support/rest.js';
import { startInProcess, type Stack } from '../support/stack.js';

const DOC = 'docs/rest.md';

type Step = { readonly line: number; readonly sh: string; readonly expect?: { readonly kind: 'json' | 'text'; readonly body: string } };

const stepsOf = (text: string): Step[] => {
  const steps: Step[] = [];
  for (const m of text.matchAll(/^```(sh|json|text)\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, m.index).split('\n').length;
    const [kind, body] = [m[1] as 'sh' | 'json' | 'text', m[2] ?? ''];
    if (kind === 'sh') steps.push({ line, sh: body });
    else {
      const last = steps.pop();
      assert.ok(last !== undefined && last.expect === undefined, `${DOC}:${line}: a ${kind} block that follows no sh block`);
      steps.push({ ...last, expect: { kind, body } });
    }
  }
  return steps;
};

/** `expected` shown in part: its keys must match, "…" matches anything, lists are whole. */
const contains = (actual: unknown, expected: unknown, at = '$'): string | undefined => {
  if (expected === '…') return undefined;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${at}: expected a list of ${expected.length}, got ${JSON.stringify(actual)}`;
    for (const [i, e] of expected.entries()) { const why = contains(actual[i], e, `${at}[${i}]`); if (why) return why; }
    return undefined;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return `${at}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [k, e] of Object.entries(expected)) { const why = contains((actual as Record<string, unknown>)[k], e, `${at}.${k}`); if (why) return why; }
    return undefined;
  }
  return actual === expected ? undefined : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
};

const firstJson = (out: string): unknown => {
  try {
    return JSON.parse(out);
  } catch {
    return JSON.parse(out.split('\n')[0] ?? '');
  }
};

describe(`${DOC}, executed`, () => {
  let stack: Stack;
  let store: IdentityStore;
  let c: Coordinator;
  let token = '';

  before(async () => {
    ({ stack, store, admin: { token } } = await startAuthStack());
    c = await startInProcess(stack, 'docs', {}, undefined, { identity: store });
  });

  after(async () => {
    await c?.stop();
    await store?.close();
    await stack?.stop();
  });

  test('every sh block prints what the block after it shows', async () => {
    const steps = stepsOf(readDoc(DOC));
    assert.ok(steps.length >= 15, `${DOC}: only ${steps.length} steps`);
    const marker = (i: number) => `@@jzse-doc-step-${i}@@`;
    const script = steps.map((s, i) => `${s.sh}\nprintf '\\n${marker(i)}\\n'`).join('\n');
    // Not spawnSync: the coordinator answering the curls runs in this very process.
    const child = spawn('bash', ['-c', script], { env: { ...process.env, REST: `http://127.0.0.1:${c.rest.port}`, JZSE_TOKEN: token } });
    const run = { stdout: '', stderr: '', status: -1 };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (run.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
    run.status = await withTimeout(new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1))), 120_000, `the sh blocks of ${DOC}`)
      .finally(() => child.kill('SIGKILL'));
    assert.equal(run.status, 0, run.stderr);
    let rest = run.stdout;
    for (const [i, step] of steps.entries()) {
      const end = rest.indexOf(marker(i));
      assert.ok(end >= 0, `${DOC}:${step.line}: the step did not finish (stderr: ${run.stderr})`);
      const out = rest.slice(0, end).trim();
      rest = rest.slice(end + marker(i).length);
      if (step.expect === undefined) continue;
      if (step.expect.kind === 'text') assert.equal(out, step.expect.body.trim(), `${DOC}:${step.line}`);
      else {
        let actual: unknown;
        assert.doesNotThrow(() => { actual = firstJson(out); }, `${DOC}:${step.line}: not JSON: ${out}`);
        assert.equal(contains(actual, JSON.parse(step.expect.body)), undefined, `${DOC}:${step.line}: ${out}`);
      }
    }
  });
});
