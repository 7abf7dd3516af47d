// src/observability/log.ts: JSON lines unless stdout is a terminal, readable lines at a terminal,
// and fields that would hold a secret censored in both forms.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger, logFormatFor, type LogFormat } from '../../src/observability/log.js';

const captured = (format: LogFormat) => {
  const chunks: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) });
  const log = createLogger('info', 'coordinator-7', { format, destination });
  log.info({ eventId: 'evt-1', seq: 42, token: 'jzse_secret_token', principal: { password: 'hunter2' } }, 'event folded');
  log.debug('below the level');
  log.flush();
  return chunks.join('');
};

describe('logs', () => {
  test('a terminal gets pretty lines; a pipe, a file or no stdout at all gets JSON', () => {
    assert.equal(logFormatFor({ isTTY: true }), 'pretty');
    assert.equal(logFormatFor({ isTTY: false }), 'json');
    assert.equal(logFormatFor({}), 'json');
  });

  test('JSON: one object per line, with the coordinator, the event id and sequence, an ISO time', () => {
    const lines = captured('json').trim().split('\n');
    assert.equal(lines.length, 1, 'the debug line is below the level');
    const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line['msg'], 'event folded');
    assert.equal(line['coordinator'], 'coordinator-7');
    assert.equal(line['eventId'], 'evt-1');
    assert.equal(line['seq'], 42);
    assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('pretty: the level, the message and the fields on their own lines, not a JSON object', () => {
    // eslint-disable-next-line no-control-regex -- colours, when the test's own stdout is a terminal
    const text = captured('pretty').replace(/\u001b\[[0-9;]*m/g, '');
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: event folded\n/);
    assert.match(text, /\n {4}eventId: "evt-1"\n/);
    assert.match(text, /\n {4}seq: 42\n/);
    assert.doesNotMatch(text, /below the level/);
    assert.throws(() => JSON.parse(text));
  });

  test('a token or password handed to the logger never reaches the output, in either form', () => {
    for (const format of ['json', 'pretty'] as const) {
      const text = captured(format);
      assert.doesNotMatch(text, /jzse_secret_token|hunter2/, format);
      assert.match(text, /\[redacted\]/, format);
    }
  });
});
