// `nats-server -t -c`: what this machine's nats-server makes of a configuration file, without
// starting it. Used to learn whether it knows `sync_interval` (2.10+; Debian's 2.9.10 refuses the
// key as an unknown field) and by the tests of deploy/nats/.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { natsServerBinary } from './processes.js';

const CHECK_BOUND_MS = 15_000;

/** Right with what it printed when the file is valid; Left with its complaint otherwise. */
export const checkNatsConfig = (file: string, env: NodeJS.ProcessEnv = process.env): Promise<E.Either<string, string>> =>
  new Promise((resolve) => {
    execFile(natsServerBinary(), ['-t', '-c', file], { env, timeout: CHECK_BOUND_MS }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      resolve(error === null ? E.right(output) : E.left(output === '' ? error.message : output));
    });
  });

/** Whether this machine's nats-server accepts `jetstream { sync_interval: always }`. */
export const supportsSyncAlways = async (): Promise<boolean> => {
  const dir = mkdtempSync(join(tmpdir(), 'jzse-nats-check-'));
  try {
    const file = join(dir, 'probe.conf');
    writeFileSync(file, `jetstream { store_dir: "${join(dir, 'js')}", sync_interval: always }\n`);
    return E.isRight(await checkNatsConfig(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
