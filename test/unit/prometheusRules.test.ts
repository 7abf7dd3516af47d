// deploy/prometheus/alerts.yml: valid for promtool, its unit tests (alerts.test.yml) pass, every
// metric it reads is one the coordinator exposes, and every alert waits (`for:`), says how bad it
// is, what happened and where docs/observability.md explains what to do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { readDoc } from '../support/markdown.js';
import { ALERTS_FILE, alertRules, exposedNames, metricNamesIn, recordedNames } from '../support/promql.js';
import { promtool, promtoolPath } from '../support/promtool.js';
import { ROOT } from '../support/tsUsage.js';

const DIR = join(ROOT, 'deploy/prometheus');
const DOC = 'docs/observability.md';
/** What issue #16 asks to be alerted on, by the alert that does it. */
const REQUIRED = ['JzseNoLeader', 'JzseProjectionLagging', 'JzseRegionOffline', 'JzseConflictQueueGrowing', 'JzseRejectedEvents'];

type RuleTests = { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };

describe(ALERTS_FILE, () => {
  const rules = alertRules().groups.flatMap((g) => g.rules);
  const alerts = rules.filter((r) => r.alert !== undefined);

  test('without promtool the rule tests fail and say how to install it (they never skip)', () => {
    assert.throws(() => promtoolPath({ PATH: '/nonexistent' }, []), /promtool not found: run `bash scripts\/bootstrap.sh`.*apt-get install prometheus/);
  });

  test('promtool check rules: valid', () => {
    assert.match(promtool(['check', 'rules', 'alerts.yml'], DIR), /SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: every case in alerts.test.yml passes', () => {
    assert.match(promtool(['test', 'rules', 'alerts.test.yml'], DIR), /SUCCESS/);
  });

  test('every alert is seen firing by a test case, and the issue\'s alerts are all there', () => {
    const cases = (parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      assert.ok(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0), `alerts.test.yml: no case sees ${a.alert} fire`);
      assert.ok(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length === 0), `alerts.test.yml: no case shows ${a.alert} quiet`);
    }
    assert.deepEqual(REQUIRED.filter((name) => !alerts.some((a) => a.alert === name)), []);
  });

  test('the name reader finds metrics, not functions, labels, keywords or durations', () => {
    assert.deepEqual(metricNamesIn('sum by (job) (rate(a_total{x="y", z=~"$v"}[5m])) > 0 and on (job) b:rec - time() offset 1h'), ['a_total', 'b:rec']);
    assert.deepEqual(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(h_bucket[$__rate_interval])))'), ['h_bucket']);
  });

  test('every metric an expression reads is exposed by the coordinator (or recorded in this file)', async () => {
    const known = new Set([...(await exposedNames()), ...recordedNames()]);
    for (const r of rules) {
      const unknown = metricNamesIn(r.expr).filter((n) => !known.has(n));
      assert.deepEqual(unknown, [], `${r.alert ?? r.record ?? '?'}: ${r.expr}`);
    }
  });

  test('every alert waits, has a severity, a summary, a description and a runbook section in the docs', () => {
    const headings = new Set(readDoc(DOC).split('\n').filter((l) => l.startsWith('#')).map((l) => `${DOC}#${l.replace(/^#+\s*/, '').toLowerCase()}`));
    for (const a of alerts) {
      const name = a.alert ?? '';
      assert.match(a.for ?? '', /^\d+[smh]$/, `${name}: for`);
      assert.ok(['critical', 'warning'].includes(a.labels?.['severity'] ?? ''), `${name}: severity`);
      for (const key of ['summary', 'description', 'runbook']) assert.ok((a.annotations?.[key] ?? '') !== '', `${name}: annotation ${key}`);
      assert.ok(headings.has(a.annotations?.['runbook'] ?? ''), `${name}: runbook ${a.annotations?.['runbook']} is not a heading of ${DOC}`);
    }
  });
});
