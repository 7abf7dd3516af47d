// `jzse` (bin/jzse, or `npm run jzse --`): runs one command and exits with its code once stdout and
// stderr are flushed (open etcd / NATS handles must not keep a finished command alive).
import { runCli } from './program.js';

const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
