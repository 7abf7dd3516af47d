// promtool, from Debian's `prometheus` package (scripts/bootstrap.sh installs it). The tests that
// need it fail with this message rather than skip: a rule nobody checked is worse than a red test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/promtool', '/usr/local/bin/promtool'];

export const promtoolPath = (env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = CANDIDATES): string => {
  const onPath = (spawnSync('/bin/sh', ['-c', 'command -v promtool || true'], { encoding: 'utf8', env }).stdout ?? '').trim();
  const found = onPath !== '' ? onPath : candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error('promtool not found: run `bash scripts/bootstrap.sh` (as root it installs Debian\'s `prometheus` package, which has promtool), or `sudo apt-get install prometheus`');
  }
  return found;
};

/** Runs promtool; its output (stdout and stderr) is the value, a non-zero exit throws with it. */
export const promtool = (args: readonly string[], cwd: string): string => {
  const run = spawnSync(promtoolPath(), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (exit ${String(run.status)}):\n${output}`);
  return output;
};

