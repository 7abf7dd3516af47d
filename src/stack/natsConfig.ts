// The embedded nats-server's configuration file: what the flags of a start without authorization
// say (listen, monitor, JetStream store), plus `include` of the generated authorization block, kept
// in its own file so that applying a new block rewrites only that file before the reload.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';

export const CONFIG_FILE = 'nats-server.conf';
/** Next to CONFIG_FILE: nats-server resolves `include` against the including file's folder. */
export const AUTHORIZATION_FILE = 'authorization.conf';

export type NatsServerSettings = { readonly client: number; readonly monitor: number; readonly storeDir: string };

/** A double-quoted nats-server string for a path: `\` and `"` escaped; a path with a control character is refused. */
const quotePath = (path: string): E.Either<string, string> =>
  // eslint-disable-next-line no-control-regex
  /[\x00-\x1f\x7f]/.test(path) ? E.left(`the path ${JSON.stringify(path)} has a control character; nats-server cannot be given it`) : E.right(`"${path.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

export const natsServerConfigText = (s: NatsServerSettings): E.Either<string, string> =>
  E.map((storeDir: string) => [
    '# Written by the JzSE coordinator for its embedded nats-server; rewritten at every start.',
    `listen: "127.0.0.1:${s.client}"`,
    `http: "127.0.0.1:${s.monitor}"`,
    `jetstream { store_dir: ${storeDir} }`,
    `include "${AUTHORIZATION_FILE}"`,
    '',
  ].join('\n'))(quotePath(s.storeDir));

/** Writes `text` to `file` whole or not at all (temp file, then rename), readable by its owner only. */
export const writePrivateFile = (file: string, text: string): E.Either<string, void> => {
  const temp = join(dirname(file), `.${Date.now()}-${process.pid}.tmp`);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, text, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
    return E.right(undefined);
  } catch (error) {
    return E.left(`cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
};

/** Writes both files into `dir`; the configuration file's path, for `nats-server -c`. */
export const writeNatsServerConfig = (dir: string, s: NatsServerSettings, authorization: string): E.Either<string, string> => {
  const file = join(dir, CONFIG_FILE);
  const written = E.flatMap(natsServerConfigText(s), (text) =>
    E.flatMap(writePrivateFile(join(dir, AUTHORIZATION_FILE), authorization), () => writePrivateFile(file, text)));
  return E.map(() => file)(written);
};
