// docs/events.md's tables against streams/: the event types and subjects it lists are exactly the
// codecs' types and the subjects the streams capture, in both directions. (Its JSON examples are
// checked by eventsDoc.test.ts.) docs/architecture.md's list of captured subjects is held to the same.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_STREAM, OUTBOUND_STREAM, eventStreamConfig, outboundStreamConfig } from '../../streams/definition.js';
import { ConflictStrategy, SyncStrategy, eventCodecs, type CoordinatorEvent, type EventType } from '../../streams/events.js';
import { API_PREFIX, INPUT_SUBJECTS, apiSubjectFor, legacySubjectFor, subjectFor } from '../../streams/subjects.js';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';
import { codeSpans, readDoc, sectionOf, subjectMatches, tableUnder, tablesOf } from '../support/markdown.js';

const DOC = 'docs/events.md';
const doc = readDoc(DOC);
const types = Object.keys(eventCodecs).sort();
const captured: readonly string[] = eventStreamConfig(DEFAULT_STREAM).subjects;
const outbound: readonly string[] = outboundStreamConfig(DEFAULT_STREAM, 1).subjects;
const REGION = '<region>';

/** The subject subjectFor gives a type, with the region shown as the docs show it. */
const subjectOf = (type: EventType): string => subjectFor({ type, region: REGION } as unknown as CoordinatorEvent);

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

describe(`${DOC} against streams/`, () => {
  const subjects = tableUnder(doc, DOC, '## Subjects', ['events', 'subject']);
  const rows = subjects.rows.map((r) => ({ types: codeSpans(r[0] ?? ''), subject: codeSpans(r[1] ?? '')[0] ?? '' }));

  test('the subjects table lists every event type of the codecs once, and no other', () => {
    const listed = rows.flatMap((r) => r.types);
    assert.deepEqual([...listed].sort(), types, `${DOC} line ${subjects.line}: the types in the subjects table`);
    assert.equal(new Set(listed).size, listed.length, `${DOC}: a type is listed twice`);
  });

  test('each row\'s subject is the one subjectFor() gives its types', () => {
    for (const row of rows) {
      for (const type of row.types) {
        assert.ok(type in eventCodecs, `${DOC}: ${type} is not an event type`);
        assert.equal(row.subject, subjectOf(type as EventType), `${DOC}: the subject of ${type}`);
      }
    }
  });

  test('every documented input subject is captured by the event stream, and every captured subject is documented', () => {
    for (const { subject } of rows) {
      assert.ok(captured.some((p) => subjectMatches(p, subject)), `${DOC}: ${subject} is not captured by ${DEFAULT_STREAM.name} (${captured.join(', ')})`);
    }
    // The legacy shared subjects and the API's are described beside the table, not in it.
    const named = codeSpans(sectionOf(doc, DOC, '## Subjects')).filter((s) => s.startsWith('jzse.'));
    for (const pattern of INPUT_SUBJECTS) {
      const documented = rows.some((r) => subjectMatches(pattern, r.subject)) || named.some((s) => s === pattern || subjectMatches(pattern, s));
      assert.ok(documented, `${DOC}: the stream captures ${pattern}, but ## Subjects does not say what is published there`);
    }
  });

  test('the section names every legacy shared subject, the API\'s subjects and the principal header', () => {
    const section = sectionOf(doc, DOC, '## Subjects');
    const spans = codeSpans(section);
    for (const type of types) {
      const legacy = legacySubjectFor({ type, region: REGION } as unknown as CoordinatorEvent);
      if (legacy !== undefined) assert.ok(spans.includes(legacy), `${DOC} ## Subjects: the legacy subject of ${type}, ${legacy}`);
      const api = apiSubjectFor({ type, region: REGION } as unknown as CoordinatorEvent);
      assert.ok(captured.some((p) => subjectMatches(p, api)), `${api} (the API subject of ${type}) is not captured`);
    }
    assert.ok(spans.includes(`${API_PREFIX}.>`), `${DOC} ## Subjects: \`${API_PREFIX}.>\``);
    assert.ok(spans.includes(PRINCIPAL_HEADER), `${DOC} ## Subjects: the \`${PRINCIPAL_HEADER}\` header`);
  });

  test('every jzse.* subject the page names exists, and every outbound subject is named', () => {
    const named = [...new Set(codeSpans(doc).filter((s) => /^jzse\.[A-Za-z0-9_.<>*-]+$/.test(s)))];
    assert.ok(named.length > 0);
    for (const s of named) {
      const known = [...captured, ...outbound].some((p) => subjectMatches(p, s))
        || outbound.some((p) => p.endsWith('.*') && p.slice(0, -2) === s); // "jzse.sync.requests", the family
      assert.ok(known, `${DOC}: \`${s}\` is neither captured by ${DEFAULT_STREAM.name} nor published on ${OUTBOUND_STREAM}`);
    }
    for (const pattern of outbound) {
      assert.ok(named.some((s) => subjectMatches(pattern, s)), `${DOC}: the coordinator publishes on ${pattern}, the page does not say so`);
    }
  });

  test('the page names both streams', () => {
    for (const name of [DEFAULT_STREAM.name, OUTBOUND_STREAM]) assert.ok(doc.includes(`\`${name}\``), `${DOC}: stream ${name}`);
  });

  test('the common fields table counts the event types', () => {
    // The first table there is the envelope's (the second, the file object's).
    const common = tablesOf(doc).find((t) => t.heading === '## Common fields');
    const type = common?.rows.find((r) => r[0] === '`type`');
    assert.ok(type, `${DOC}: no \`type\` row in the common fields table`);
    const count = /one of the (\w+) types/.exec(type[1] ?? '')?.[1];
    assert.equal(count, NUMBER_WORDS[types.length], `${DOC}: the \`type\` row says "${type[1]}"; the codecs have ${types.length} types`);
  });

  test('every conflict strategy is described in rule 5, and policy.set lists every strategy', () => {
    const rules = sectionOf(doc, DOC, '## Rules every region must follow');
    const rule5 = rules.slice(rules.indexOf('\n5. '), rules.indexOf('\n6. '));
    const described = [...rule5.matchAll(/^\s+- `([a-z_]+)`:/gm)].map((m) => m[1]);
    assert.deepEqual(described.sort(), Object.keys(ConflictStrategy.keys).sort(), `${DOC} rule 5: the strategies described`);
    const policy = sectionOf(doc, DOC, '### `policy.set`');
    for (const s of [...Object.keys(ConflictStrategy.keys), ...Object.keys(SyncStrategy.keys)]) {
      assert.ok(codeSpans(policy).includes(s), `${DOC} policy.set: strategy \`${s}\``);
    }
  });
});

describe('docs/architecture.md against streams/', () => {
  const ARCH = 'docs/architecture.md';
  test('the Stream section lists exactly the subjects the event stream captures', () => {
    const section = sectionOf(readDoc(ARCH), ARCH, '## Stream');
    const named = codeSpans(section).filter((s) => s.startsWith('jzse.'));
    const inbound = named.filter((s) => !outbound.some((p) => subjectMatches(p, s) || p === s));
    assert.deepEqual([...new Set(inbound)].sort(), [...captured].sort(), `${ARCH}: ## Stream`);
    for (const p of outbound) assert.ok(named.includes(p), `${ARCH}: ## Stream does not say that ${p} is not captured`);
  });
});
