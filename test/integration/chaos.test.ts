// The short chaos variant: every fault at least once, every invariant checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, runChaos, summary, violations } from '../chaos/harness.js';

test('chaos (short): leader kills and pauses, nats-server and etcd restarts; nothing lost, nothing doubled, no deposed writes', async () => {
  const report = await runChaos({ durationMs: 0, seed: 5, log: (line) => console.log(line) });
  console.log(summary(report));
  assert.deepEqual(violations(report), []);
  assert.ok(report.acknowledged > 100, `regions kept publishing (${report.acknowledged} acknowledged)`);
  assert.deepEqual(report.faults.map((f) => f.fault), ['kill-leader', 'pause-leader', 'restart-nats', 'kill-leader', 'restart-etcd']);
  assert.ok(report.fencing.terms >= 3, 'leadership changed hands');
  assert.ok(median(report.failoverMs) < 5000, `failover median ${median(report.failoverMs)} ms`);
});
