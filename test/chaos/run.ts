// `npm run chaos -- --minutes 10`: the long chaos run; prints what it did and the invariants.
import { Command } from 'commander';
import { runChaos, summary, violations } from './harness.js';

const program = new Command('chaos')
  .description('Run coordinators, regions and faults against real servers, then check every invariant.')
  .option('--minutes <n>', 'how long to inject faults', '2')
  .option('--seed <n>', 'workload seed', '1')
  .addHelpText('after', '\nExample:\n  npm run chaos -- --minutes 10\n\nExit code 0 when every invariant holds, 1 otherwise.')
  .parse();
const opts = program.opts<{ minutes: string; seed: string }>();
const minutes = Number(opts.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) program.error(`--minutes: expected a positive number, got ${opts.minutes}`);

const report = await runChaos({ durationMs: minutes * 60_000, seed: Number(opts.seed), log: (l) => console.log(l) });
console.log(`\n${summary(report)}`);
const broken = violations(report);
console.log(broken.length === 0 ? '\nall invariants hold' : `\nINVARIANTS BROKEN:\n${broken.join('\n')}`);
process.exit(broken.length === 0 ? 0 : 1);
