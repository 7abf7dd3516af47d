// docs/events.md is what regions are written against: its examples must decode with the real codecs,
// cover every event type, and sit under the subject subjectFor() gives them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, decodeValue } from '../../streams/decode.js';
import { eventCodecs, type CoordinatorEvent } from '../../streams/events.js';
import { subjectFor } from '../../streams/subjects.js';

const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');

type Example = { readonly line: number; readonly json: string; readonly subject: string | null; readonly section: string | null };

/** Every ```json block, with the last `Subject: \`...\`` line and `### \`type\`` heading before it. */
const examples = ((): Example[] => {
  const lines = doc.split('\n');
  const found: Example[] = [];
  let subject: string | null = null;
  let section: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^#{2,3} /.exec(line) ? (/^### `([a-z.]+)`/.exec(line)?.[1] ?? null) : undefined;
    if (heading !== undefined) {
      section = heading;
      subject = null;
      continue;
    }
    const stated = /^Subject: `([^`]+)`\s*$/.exec(line);
    if (stated) subject = stated[1] ?? null;
    if (line.trim() === '```json') {
      const end = lines.indexOf('```', i + 1);
      assert.ok(end > i, `unterminated json block at line ${i + 1}`);
      found.push({ line: i + 1, json: lines.slice(i + 1, end).join('\n'), subject, section });
      subject = null;
      i = end;
    }
  }
  return found;
})();

const decoded = examples.map((ex) => {
  let value: unknown;
  try {
    value = JSON.parse(ex.json);
  } catch (error) {
    assert.fail(`docs/events.md line ${ex.line}: not JSON: ${(error as Error).message}`);
  }
  return { ...ex, value, result: decodeValue(value) };
});

describe('docs/events.md', () => {
  test('has JSON examples', () => {
    assert.ok(examples.length >= Object.keys(eventCodecs).length);
  });

  test('every ```json example decodes with decodeValue', () => {
    for (const ex of decoded) {
      assert.ok(E.isRight(ex.result), `docs/events.md line ${ex.line}: ${E.isLeft(ex.result) ? ex.result.left : ''}`);
    }
  });

  test('every event type has an example, in the section named after it', () => {
    const types = new Set<string>();
    for (const ex of decoded) {
      if (E.isLeft(ex.result)) continue;
      types.add(ex.result.right.type);
      assert.equal(ex.section, ex.result.right.type, `docs/events.md line ${ex.line}: example of ${ex.result.right.type} under ${ex.section}`);
    }
    assert.deepEqual([...types].sort(), Object.keys(eventCodecs).sort());
  });

  test('the subject stated next to each example is subjectFor(event), and the bytes decode on it', () => {
    for (const ex of decoded) {
      if (E.isLeft(ex.result)) continue;
      const event: CoordinatorEvent = ex.result.right;
      assert.equal(ex.subject, subjectFor(event), `docs/events.md line ${ex.line}: subject`);
      assert.ok(E.isRight(decodeEvent(ex.subject ?? '', new TextEncoder().encode(ex.json))), `docs/events.md line ${ex.line}: bytes`);
    }
  });

  test('each example\'s top-level fields are described in its section', () => {
    const sections = doc.split(/^### /m);
    for (const ex of decoded) {
      if (E.isLeft(ex.result)) continue;
      const type = ex.result.right.type;
      const text = sections.find((s) => s.startsWith(`\`${type}\``)) ?? '';
      const common = ['schema', 'id', 'type', 'at', 'region', 'operator'];
      for (const key of Object.keys(ex.value as object).filter((k) => !common.includes(k))) {
        assert.ok(text.replace(/```json[\s\S]*?```/g, '').includes(`\`${key}\``), `${type}: field \`${key}\` is not described`);
      }
    }
  });

  test('the subjects table names every subject an example uses', () => {
    for (const ex of decoded) {
      if (E.isLeft(ex.result)) continue;
      // As the table writes a region's own subjects: with `<region>`.
      const event = ex.result.right;
      const subject = subjectFor('region' in event ? { ...event, region: '<region>' } : event);
      assert.ok(doc.includes(`\`${subject}\``), subject);
    }
  });
});
