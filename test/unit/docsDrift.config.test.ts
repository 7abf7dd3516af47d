// jzse.example.yaml ("every key with its default") against src/config/schema.ts: the same keys both
// ways, the same defaults, and every key read by some code outside src/config/ (a reference the
// TypeScript checker resolves to that very schema property). The config keys and JZSE_* variables
// the docs name must exist too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import ts from 'typescript';
import YAML from 'yaml';
import { RETIRED, loadConfig } from '../../src/config/load.js';
import { ConfigCodec, DEFAULTS } from '../../src/config/schema.js';
import { eventCodecs } from '../../streams/events.js';
import { codeSpans, readDoc } from '../support/markdown.js';
import { usage } from '../support/tsUsage.js';

const EXAMPLE = 'jzse.example.yaml';
const SCHEMA = 'src/config/schema.ts';
/** Where keys are declared, defaulted and parsed: a use there is not a use. */
const LOADING = [SCHEMA, 'src/config/load.ts'];
const DOCS = ['README.md', 'deploy/README.md', 'docs/architecture.md', 'docs/events.md', 'docs/api.md', 'docs/cli.md', 'docs/capacity.md', 'docs/observability.md', 'bench/README.md'];

const schemaKeys = Object.entries(ConfigCodec.props).flatMap(([section, codec]) => Object.keys(codec.props).map((key) => `${section}.${key}`)).sort();
const keysOf = (o: Record<string, unknown>): string[] =>
  Object.entries(o).flatMap(([section, values]) => Object.keys(values as object).map((key) => `${section}.${key}`)).sort();
const example = YAML.parse(readDoc(EXAMPLE)) as Record<string, Record<string, unknown>>;

describe(`${EXAMPLE} against ${SCHEMA}`, () => {
  test('the example has every schema key, and no other', () => {
    assert.deepEqual(keysOf(example), schemaKeys);
  });

  test('the example shows the defaults', () => {
    assert.deepEqual(example, JSON.parse(JSON.stringify(DEFAULTS)));
  });

  test('the example, as a configuration file, loads', () => {
    const loaded = loadConfig({ JZSE_CONFIG: new URL(`../../${EXAMPLE}`, import.meta.url).pathname });
    assert.ok(E.isRight(loaded), E.isLeft(loaded) ? loaded.left.join('\n') : '');
  });

  test('every schema key is read outside loading it (src/config/schema.ts, load.ts)', () => {
    const u = usage(['src']);
    const source = u.file(SCHEMA);
    const declarations = new Map<string, ts.PropertyAssignment>();
    const objectArg = (n: ts.Expression | undefined): ts.ObjectLiteralExpression | undefined =>
      n !== undefined && ts.isCallExpression(n) && n.arguments[0] !== undefined && ts.isObjectLiteralExpression(n.arguments[0]) ? n.arguments[0] : undefined;
    const visit = (n: ts.Node): void => {
      if (ts.isVariableDeclaration(n) && n.name.getText(source) === 'ConfigCodec') {
        for (const section of objectArg(n.initializer)?.properties.filter(ts.isPropertyAssignment) ?? []) {
          for (const key of objectArg(section.initializer)?.properties.filter(ts.isPropertyAssignment) ?? []) {
            declarations.set(`${section.name.getText(source)}.${key.name.getText(source)}`, key);
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(source);
    assert.deepEqual([...declarations.keys()].sort(), schemaKeys, `${SCHEMA}: the keys found in ConfigCodec's source`);
    const uses = u.usesOf([...declarations.values()], ['src']);
    const unread = [...declarations].filter(([, d]) => !(uses.get(d) ?? []).some((x) => !LOADING.includes(x.file))).map(([k]) => k);
    assert.deepEqual(unread, [], 'schema keys nothing but config loading reads');
  });

  test('every config key and JZSE_<SECTION>_<KEY> variable the docs name exists', () => {
    const sections = Object.keys(ConfigCodec.props);
    const envNames = schemaKeys.map((k) => `JZSE_${k.replace('.', '_')}`.toUpperCase());
    for (const path of DOCS) {
      const text = readDoc(path);
      for (const span of codeSpans(text)) {
        const m = /^([a-z]+)\.([a-z_]+)$/.exec(span);
        // `sync.acked` is an event type, `coordinator.ts` a file.
        if (!m || !sections.includes(m[1] ?? '') || span in eventCodecs || /\.(ts|js|md|ya?ml|json|proto|sh)$/.test(span)) continue;
        assert.ok(schemaKeys.includes(span) || span in RETIRED, `${path}: \`${span}\` is not a configuration key`);
      }
      for (const name of text.match(/\bJZSE_[A-Z0-9_]+/g) ?? []) {
        if (!sections.some((s) => name.startsWith(`JZSE_${s.toUpperCase()}_`))) continue;
        assert.ok(envNames.includes(name), `${path}: ${name} is not a configuration variable`);
      }
    }
  });

  test('a file naming the retired nats.cluster_id is refused with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jzse-config-'));
    try {
      const file = join(dir, 'jzse.yaml');
      writeFileSync(file, 'nats:\n  cluster_id: jzse\n');
      const loaded = loadConfig({ JZSE_CONFIG: file });
      assert.ok(E.isLeft(loaded));
      assert.match(loaded.left.join('\n'), /^nats\.cluster_id: no longer a key .*JetStream has no cluster id/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
