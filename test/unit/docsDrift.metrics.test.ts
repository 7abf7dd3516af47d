// docs/observability.md's metrics table against src/observability/metrics.ts: every documented metric is
// registered (with the labels it shows), every registered one is documented, and every jzse_* metric
// is set by some code path in src/ — a resolved inc/set/observe call on that very field, found with
// the TypeScript checker. test/integration/docsDrift.metrics.test.ts reads /metrics under a workload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Gauge, Histogram, Summary } from 'prom-client';
import ts from 'typescript';
import { createMetrics } from '../../src/observability/metrics.js';
import { codeSpans, readDoc, tableUnder } from '../support/markdown.js';
import { usage } from '../support/tsUsage.js';

const DOC = 'docs/observability.md';
const SOURCE = 'src/observability/metrics.ts';
const SETTERS = new Set(['inc', 'dec', 'set', 'observe', 'startTimer', 'setToCurrentTime', 'reset', 'zero', 'remove']);

type Documented = { readonly name: string; readonly labels: readonly string[] | null; readonly family: boolean };

/** `jzse_x{a,b}` → name jzse_x, labels [a, b]; `process_*` → a family of names. */
export const documentedMetrics = (): Documented[] => {
  const table = tableUnder(readDoc(DOC), DOC, '## Metrics', ['metric', 'what it says', 'watch for']);
  return table.rows.flatMap((r) => codeSpans(r[0] ?? '')).map((span) => {
    const m = /^([a-z_]+)(\*)?(?:\{([a-z_,]+)\})?$/.exec(span);
    assert.ok(m, `${DOC}: \`${span}\` in the metrics table is not a metric name`);
    return { name: m[1] ?? '', family: m[2] === '*', labels: m[3] === undefined ? null : m[3].split(',') };
  });
};

const isMetric = (v: unknown): v is Counter | Gauge | Histogram | Summary =>
  v instanceof Counter || v instanceof Gauge || v instanceof Histogram || v instanceof Summary;

describe(`${DOC} against ${SOURCE}`, () => {
  const documented = documentedMetrics();
  const registered = createMetrics(true).registry.getMetricsAsArray().map((m) => m.name);
  const own = Object.entries(createMetrics(false) as Record<string, unknown>).filter((e): e is [string, Counter | Gauge | Histogram | Summary] => isMetric(e[1]));

  test('every documented metric is registered, and every registered metric is documented', () => {
    for (const d of documented) {
      if (d.family) assert.ok(registered.some((n) => n.startsWith(d.name)), `${DOC}: no registered metric is named ${d.name}*`);
      else assert.ok(registered.includes(d.name), `${DOC}: ${d.name} is not registered in ${SOURCE}`);
    }
    for (const name of registered) {
      assert.ok(documented.some((d) => (d.family ? name.startsWith(d.name) : name === d.name)), `${SOURCE}: ${name} is not in ${DOC}`);
    }
  });

  test('Node\'s metrics have the standard names the page promises (no doubled prefix)', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      assert.ok(registered.includes(name), `${SOURCE}: ${name} (registered: ${registered.filter((n) => !n.startsWith('jzse_')).slice(0, 3).join(', ')}, ...)`);
    }
    for (const name of registered) assert.doesNotMatch(name, /(^|_)([a-z]+)_\2_/, `${SOURCE}: ${name} repeats a word`);
  });

  test('the labels shown are the labels registered', () => {
    for (const [, metric] of own) {
      const name = (metric as unknown as { name: string }).name;
      const labels = (metric as unknown as { labelNames: string[] }).labelNames;
      const d = documented.find((x) => x.name === name);
      assert.ok(d, `${DOC}: ${name}`);
      assert.deepEqual(d.labels ?? [], labels, `${DOC}: the labels of ${name}`);
    }
  });

  test('every jzse_* metric is set by a code path in src/, outside its own definition', () => {
    const u = usage(['src']);
    const source = u.file(SOURCE);
    // The object createMetrics returns: the literal with `registry` and the metrics in it.
    let literal: ts.ObjectLiteralExpression | undefined;
    const find = (n: ts.Node): void => {
      if (ts.isObjectLiteralExpression(n) && n.properties.some((p) => p.name?.getText(source) === 'registry')) literal = n;
      ts.forEachChild(n, find);
    };
    find(source);
    assert.ok(literal, `${SOURCE}: no object literal holding \`registry\` and the metrics`);
    const properties = new Map(literal.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(source), p]));
    assert.deepEqual(own.map(([field]) => field).filter((f) => !properties.has(f)), [], `${SOURCE}: metrics not found in the literal`);

    const uses = u.usesOf([...properties.values()], ['src']);
    const unset: string[] = [];
    for (const [field, metric] of own) {
      const declaration = properties.get(field)!;
      const setBy = (uses.get(declaration) ?? []).filter(({ node, file }) => {
        const access = node.parent;
        const method = access.parent;
        const isSetterCall = ts.isPropertyAccessExpression(access) && access.name === node
          && ts.isPropertyAccessExpression(method) && method.expression === access && SETTERS.has(method.name.text)
          && ts.isCallExpression(method.parent) && method.parent.expression === method;
        const inOwnDefinition = file === SOURCE && node.getStart() >= declaration.getStart() && node.getEnd() <= declaration.getEnd();
        return isSetterCall && !inOwnDefinition;
      });
      if (setBy.length === 0) unset.push(`${(metric as unknown as { name: string }).name} (metrics.${field})`);
    }
    assert.deepEqual(unset, [], 'registered but never set by any code path');

    // The functions on the metrics object (e.g. readStreamFrom) are wired up outside metrics.ts.
    for (const [field, p] of properties) {
      if (!ts.isArrowFunction(p.initializer) && !ts.isFunctionExpression(p.initializer)) continue;
      const called = (uses.get(p) ?? []).filter(({ file, node }) => file !== SOURCE
        && ts.isPropertyAccessExpression(node.parent) && node.parent.name === node
        && ts.isCallExpression(node.parent.parent) && node.parent.parent.expression === node.parent);
      assert.ok(called.length > 0, `${SOURCE}: metrics.${field} is never called from src/`);
    }
  });
});
