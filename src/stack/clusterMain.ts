// `npm run cluster [-- --coordinators 3 --dir <folder> --keep]`: the production topology on
// loopback (cluster.ts), its endpoints printed, everything stopped on Ctrl-C (SIGINT) or SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeCluster, startCluster } from './cluster.js';
import { detachChildren } from './processes.js';

const USAGE = 'usage: npm run cluster -- [--coordinators 2|3] [--dir <folder>] [--keep]';

const parsed = (() => {
  try {
    return parseArgs({ options: { coordinators: { type: 'string', default: '2' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();
if (parsed.help) {
  process.stdout.write(`${USAGE}\n  --coordinators  how many coordinators (default 2)\n  --dir           where data and logs go (default: a new temp folder, removed at the end unless --keep)\n  --keep          keep the folder after stopping\n`);
  process.exit(0);
}
const coordinators = Number(parsed.coordinators);
if (coordinators !== 2 && coordinators !== 3) {
  process.stderr.write(`--coordinators: expected 2 or 3, got ${parsed.coordinators}\n${USAGE}\n`);
  process.exit(2);
}
const own = parsed.dir === undefined;
const dir = own ? mkdtempSync(resolve(tmpdir(), 'jzse-cluster-')) : resolve(parsed.dir ?? '');
const keep = parsed.keep || !own;
const say = (line: string): void => void process.stderr.write(`cluster: ${line}\n`);

const main = async (): Promise<void> => {
  detachChildren();
  say(`starting in ${dir}`);
  const cluster = await startCluster({ dir, coordinators, progress: (line) => say(`starting ${line}`) });
  process.stdout.write(describeCluster(cluster));
  say('running; Ctrl-C stops everything');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping coordinators, PostgreSQL, etcd, nats-server`);
    await cluster.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    say(keep ? `stopped; data and logs kept in ${dir}` : 'stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  say(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  say(`logs in ${dir}`);
  process.exit(1);
});
