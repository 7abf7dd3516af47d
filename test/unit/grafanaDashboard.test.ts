// deploy/grafana/jzse.json: every PromQL expression in it (panels and variables) reads only metrics
// the coordinator exposes, and is valid PromQL (promtool checks it as a recording rule); every
// jzse_* metric has a panel; the dashboard is importable as it is (a data-source variable, unique ids).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { exposedNames, metricNamesIn, recordedNames } from '../support/promql.js';
import { promtool } from '../support/promtool.js';
import { ROOT } from '../support/tsUsage.js';

const FILE = 'deploy/grafana/jzse.json';

type Target = { expr?: string; datasource?: { uid?: string } };
type Panel = { id: number; type: string; title: string; datasource?: { uid?: string }; targets?: Target[]; panels?: Panel[] };
type Variable = { name: string; type: string; query?: string | { query?: string } };
type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } };

const dashboard = JSON.parse(readFileSync(join(ROOT, FILE), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** label_values(metric{...}, label) → the metric selector, the PromQL in it. */
const variableExprs = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => {
  const q = typeof v.query === 'string' ? v.query : v.query?.query ?? '';
  return /^label_values\((.+),\s*\w+\)$/.exec(q)?.[1] ?? q;
});
const exprs = [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')), ...variableExprs];
/** Grafana's variables, as Prometheus would receive them. */
const asPromql = (expr: string): string => expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\w+/g, '.*');

describe(FILE, () => {
  test('every expression reads only metrics the coordinator exposes', async () => {
    const known = new Set([...(await exposedNames()), ...recordedNames()]);
    assert.ok(exprs.length > 10);
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `reads no metric: ${expr}`);
      assert.deepEqual(names.filter((n) => !known.has(n)), [], expr);
    }
  });

  test('every expression is valid PromQL (promtool check rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jzse-dashboard-'));
    try {
      const rules = exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr: asPromql(expr) }));
      writeFileSync(join(dir, 'dashboard.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      assert.match(promtool(['check', 'rules', 'dashboard.yml'], dir), new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every jzse_* metric has a panel', async () => {
    const read = new Set(exprs.flatMap(metricNamesIn).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const own = [...(await exposedNames())].filter((n) => n.startsWith('jzse_') && !/_(bucket|sum|count)$/.test(n));
    assert.deepEqual(own.filter((n) => !read.has(n)), []);
  });

  test('importable: a data-source variable used by every query, unique panel ids, titles', () => {
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) {
      assert.ok(p.title !== '', `panel ${p.id}: title`);
      if (p.type === 'row') continue;
      assert.equal(p.datasource?.uid, '${datasource}', `${p.title}: data source`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${datasource}', `${p.title}: a target's data source`);
    }
  });
});
