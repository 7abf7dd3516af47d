// The metric names a PromQL expression reads, and the names our registry exposes (with the
// _bucket/_sum/_count series of histograms), so deploy/'s alerts and dashboard can be held to
// src/observability/metrics.ts. A small lexer, not a parser: promtool checks the syntax.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../src/observability/metrics.js';
import { ROOT } from './tsUsage.js';

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/** Metric names in `expr`: identifiers that are not functions, keywords, label names or values. */
export const metricNamesIn = (expr: string): string[] => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // grouping labels
  const names = [...bare.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1] ?? '');
  return [...new Set(names.filter((n) => !KEYWORDS.has(n.toLowerCase())))];
};

/** Every series name a coordinator's /metrics holds (defaults on, as main.ts runs it). */
export const exposedNames = async (): Promise<Set<string>> => {
  const metrics = await createMetrics(true).registry.getMetricsAsJSON();
  return new Set(metrics.flatMap((m) => {
    const type = String(m.type);
    if (type === 'histogram') return [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`];
    if (type === 'summary') return [m.name, `${m.name}_sum`, `${m.name}_count`];
    return [m.name];
  }));
};

export const ALERTS_FILE = 'deploy/prometheus/alerts.yml';

type RuleFile = { groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }> };

export const alertRules = (): RuleFile => parse(readFileSync(join(ROOT, ALERTS_FILE), 'utf8')) as RuleFile;

/** The names alerts.yml records: expressions may read them beside the registry's. */
export const recordedNames = (): string[] => alertRules().groups.flatMap((g) => g.rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
