// PostgreSQL from the machine's own binaries (Debian: /usr/lib/postgresql/<n>/bin) as a child
// process: initdb into <dir>/data once, then the server on a loopback port, its unix socket in
// <dir>/run. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { findBinary, freePort, manage, type ServerProcess } from './processes.js';

export type PostgresServer = ServerProcess & { readonly url: string; readonly port: number; readonly dir: string };
export type Postgres = PostgresServer;

export type PostgresOptions = {
  readonly port?: number;
  /** Server settings (`-c key=value`), e.g. fsync=off for throwaway test data. */
  readonly settings?: Readonly<Record<string, string>>;
};

const INITDB_BOUND_MS = 120_000;

/** JZSE_POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/<n>/bin, else PATH. */
const binary = (name: string): string => {
  const fromEnv = process.env['JZSE_POSTGRES_BIN_DIR'];
  if (fromEnv !== undefined) return join(fromEnv, name);
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const candidate = join(root, v, 'bin', name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this version
    }
  }
  return findBinary(name);
};

const osUser = (name: string): { uid: number; gid: number } | undefined => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
};

/** Who the server runs as: us, or as root the `postgres` user. */
const serverUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const user = osUser('postgres');
  if (user === undefined) throw new Error('postgres: running as root, and there is no `postgres` user to run PostgreSQL as (it refuses root)');
  return user;
};

/** The first folder above `dir` that `user` cannot pass through (mode without o+x, not its own). */
const blockedAncestor = (dir: string, user: { uid: number; gid: number }): string | undefined => {
  for (let d = dirname(resolve(dir)); ; d = dirname(d)) {
    const s = statSync(d);
    const passes = s.uid === user.uid ? (s.mode & 0o100) !== 0 : s.gid === user.gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0;
    if (!passes) return d;
    if (d === dirname(d)) return undefined;
  }
};

const run = (command: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> =>
  new Promise((done, fail) => {
    execFile(command, args, { ...user, timeout: INITDB_BOUND_MS, env: { PATH: process.env['PATH'] ?? '', LANG: 'C' } }, (error, _stdout, stderr) =>
      error === null ? done() : fail(new Error(`${command} failed: ${error.message.split('\n')[0] ?? ''}\n${stderr.trim()}`)));
  });

const accepts = async (url: string): Promise<boolean> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

export const startPostgres = async (dir: string, o: PostgresOptions = {}): Promise<PostgresServer> => {
  const user = serverUser();
  const data = join(dir, 'data');
  const socket = join(dir, 'run');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  mkdirSync(socket, { recursive: true });
  if (user !== undefined) {
    const blocked = blockedAncestor(dir, user);
    if (blocked !== undefined) throw new Error(`postgres: the postgres user (uid ${user.uid}) cannot pass through ${blocked}; give it o+x or choose another folder`);
    for (const d of [dir, data, socket]) chownSync(d, user.uid, user.gid);
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    await run(binary('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], user);
  }
  const port = o.port ?? (await freePort());
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: socket, ...o.settings };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server = await manage({
    name: 'postgres',
    command: binary('postgres'),
    args: ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    dir,
    ready: { what: `accepting connections at ${url}`, check: () => accepts(url) },
    ...(user === undefined ? {} : { user }),
    // SIGTERM would wait for every client to leave; SIGINT is the fast shutdown.
    stopSignal: 'SIGINT',
    killChildren: true,
  });
  return { ...server, url, port, dir };
};
