// The embedded nats-server's configuration file: what the flags of a start without authorization
// say (listen, monitor, JetStream store), plus `include` of the generated authorization block, kept
// in its own file so that applying a new block rewrites only that file before the reload. A member
// of a loopback cluster (src/stack/cluster.ts) adds its name, routes and the cluster's name.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';

export const CONFIG_FILE = 'nats-server.conf';
/** Next to CONFIG_FILE: nats-server resolves `include` against the including file's folder. */
export const AUTHORIZATION_FILE = 'authorization.conf';

/** One member of a JetStream cluster on loopback: its unique name, its route port and the others'. */
export type NatsClusterSettings = { readonly name: string; readonly serverName: string; readonly port: number; readonly routes: readonly number[] };

export type NatsServerSettings = {
  readonly client: number;
  readonly monitor: number;
  readonly storeDir: string;
  readonly cluster?: NatsClusterSettings;
  /** `jetstream { sync_interval: always }`: fsync before every acknowledgement (nats-server 2.10+; 2.9 refuses the key). */
  readonly syncAlways?: boolean;
};

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A double-quoted nats-server string for a path: `\` and `"` escaped; a path with a control character is refused. */
const quotePath = (path: string): E.Either<string, string> =>
  // eslint-disable-next-line no-control-regex
  /[\x00-\x1f\x7f]/.test(path) ? E.left(`the path ${JSON.stringify(path)} has a control character; nats-server cannot be given it`) : E.right(`"${path.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

const clusterLines = (c: NatsClusterSettings): E.Either<string, string[]> =>
  !NAME.test(c.name) || !NAME.test(c.serverName)
    ? E.left(`cluster and server names must be 1-64 chars of A-Z a-z 0-9 _ - (got ${JSON.stringify(c.name)}, ${JSON.stringify(c.serverName)})`)
    : E.right([
      `server_name: "${c.serverName}"`,
      `cluster { name: "${c.name}", listen: "127.0.0.1:${c.port}", routes: [${c.routes.map((p) => `"nats://127.0.0.1:${p}"`).join(', ')}] }`,
    ]);

/** The file's text; `include` of the authorization block only when there is one. */
export const natsServerConfigText = (s: NatsServerSettings, authorization = true): E.Either<string, string> =>
  E.flatMap(quotePath(s.storeDir), (storeDir: string) =>
    E.map((cluster: string[]) => [
      '# Written by the JzSE coordinator for its embedded nats-server; rewritten at every start.',
      `listen: "127.0.0.1:${s.client}"`,
      `http: "127.0.0.1:${s.monitor}"`,
      `jetstream { store_dir: ${storeDir}${s.syncAlways === true ? ', sync_interval: always' : ''} }`,
      ...cluster,
      ...(authorization ? [`include "${AUTHORIZATION_FILE}"`] : []),
      '',
    ].join('\n'))(s.cluster === undefined ? E.right([]) : clusterLines(s.cluster)));

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

/** Writes both files into `dir` (the block only if given); the configuration file's path, for `nats-server -c`. */
export const writeNatsServerConfig = (dir: string, s: NatsServerSettings, authorization: string | undefined): E.Either<string, string> => {
  const file = join(dir, CONFIG_FILE);
  const written = E.flatMap(natsServerConfigText(s, authorization !== undefined), (text) =>
    E.flatMap(authorization === undefined ? E.right(undefined) : writePrivateFile(join(dir, AUTHORIZATION_FILE), authorization), () => writePrivateFile(file, text)));
  return E.map(() => file)(written);
};
