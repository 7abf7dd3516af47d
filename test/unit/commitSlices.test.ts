// A large batch is serialized in slices with the event loop served in between (lease keep-alives
// must not wait behind a 100k-record catch-up batch), and the writes are exactly writesFor's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEntry } from '../../projections/entry.js';
import { Runner } from '../../projections/runner.js';
import { writesFor } from '../../projections/layout.js';
import { emptyView } from '../../projections/view.js';
import { writesInSlices } from '../../src/projector/commits.js';
import { changeGenerator, encodeEvent, regionIds, regionRegistration } from '../../bench/workload.js';

test('writesInSlices equals writesFor and lets other work run while it serializes', async () => {
  const regions = regionIds(3);
  const storedAt = '2026-11-25T12:00:00.000Z';
  const gen = changeGenerator({ regions, files: 6_000, tag: 'slices', baseAtMs: Date.parse(storedAt) - 100_000 });
  const events = [...regions.map((r) => encodeEvent(regionRegistration(r, storedAt))), ...Array.from({ length: 12_000 }, () => encodeEvent(gen.next()))];
  const runner = new Runner(emptyView());
  events.forEach((e, i) => runner.apply(decodeEntry({ seq: i + 1, subject: e.subject, storedAt, data: e.data })));
  const { view, touched } = runner.cut();
  assert.ok(touched.length > 15_000, `a batch of ${touched.length} records spans several slices`);

  const immediate = new Promise<number>((resolve) => setImmediate(() => resolve(performance.now())));
  const writes = await writesInSlices('/jzse/view', view, touched);
  const finished = performance.now();

  assert.deepEqual(writes, writesFor('/jzse/view', view, touched));
  assert.ok((await immediate) < finished, 'a callback queued meanwhile ran before serialization finished');
  assert.equal(new Set(writes.map((w) => w.key)).size, writes.length);
});
