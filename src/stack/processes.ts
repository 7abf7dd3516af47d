// Runs nats-server, etcd and PostgreSQL (postgres.ts) as child processes on free loopback ports:
// the embedded stack of `npm start` and the servers of the test harness. Kill and restart keep
// ports and data.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { waitFor, withTimeout } from '../util/waitFor.js';
import { AUTHORIZATION_FILE, writeNatsServerConfig, writePrivateFile, type NatsClusterSettings } from './natsConfig.js';

/** How long a server may take to exit once signalled (etcd and nats-server need well under a second). */
const EXIT_BOUND_MS = 15_000;

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/** A binary on PATH, or in the sbin folders Debian installs servers to (not always on PATH). */
export const findBinary = (name: string): string => {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return name;
};

const healthy = async (url: string, check: (body: string) => boolean): Promise<boolean> => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return check(await response.text());
  } catch {
    return false;
  }
};

export type ServerProcess = {
  readonly name: string;
  readonly pid: () => number | undefined;
  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>;
  readonly signal: (signal: NodeJS.Signals) => void;
  /** Starts it again with the same ports and data directory. */
  readonly restart: () => Promise<void>;
  readonly stop: () => Promise<void>;
};

export type Spec = {
  name: string;
  command: string;
  args: string[];
  dir: string;
  /** What it is waiting for (named in the timeout) and the check that says it is there. */
  ready: { what: string; check: () => Promise<boolean> };
  /** Run as this user (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
  /** How long it may take to become ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Its environment and working folder (default: ours). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The polite stop (SIGTERM unless the server reads it otherwise: PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Its workers outlive it when it is killed (PostgreSQL's backends): SIGKILL takes them too and waits for them. */
  killChildren?: boolean;
};

export const httpReady = (url: string, check: (body: string) => boolean): Spec['ready'] => ({ what: `healthy at ${url}`, check: () => healthy(url, check) });

/** Linux: the processes whose parent is `pid` (from /proc), and whether one is still running. */
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
const running = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

const live = new Set<ChildProcess>();
let ownGroups = false;
/**
 * From now on, children get their own process group: a terminal's Ctrl-C then reaches only this
 * process, which stops them in order (`npm run cluster`: coordinators before the servers they use).
 */
export const detachChildren = (): void => {
  ownGroups = true;
};
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const signalGone = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

export const manage = async (spec: Spec): Promise<ServerProcess> => {
  mkdirSync(spec.dir, { recursive: true });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const log = openSync(join(spec.dir, `${spec.name}.log`), 'a');
    const proc = spawn(spec.command, spec.args, { stdio: ['ignore', log, log], ...spec.user, ...(spec.env === undefined ? {} : { env: spec.env }), ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }), detached: ownGroups });
    closeSync(log);
    child = proc;
    live.add(proc);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void exited.then(() => live.delete(proc));
    let failed: Error | undefined;
    proc.once('error', (error) => (failed = error));
    await waitFor(
      async () => {
        if (failed) throw new Error(`${spec.name}: could not start ${spec.command}: ${failed.message} (run scripts/bootstrap.sh to install it)`);
        if (proc.exitCode !== null) throw new Error(`${spec.name} exited with ${proc.exitCode}; see ${join(spec.dir, `${spec.name}.log`)}`);
        return spec.ready.check();
      },
      { timeoutMs: spec.readyTimeoutMs ?? 30_000, what: `${spec.name} to become ${spec.ready.what}` },
    );
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const workers = spec.killChildren === true && signal === 'SIGKILL' && child.pid !== undefined ? childrenOf(child.pid) : [];
      child.kill(signal);
      for (const pid of workers) signalGone(pid);
      if (signal === 'SIGKILL') {
        await withTimeout(exited, EXIT_BOUND_MS, `${spec.name} (pid ${child.pid}) to exit after SIGKILL`);
        await waitFor(() => !workers.some(running), { timeoutMs: EXIT_BOUND_MS, what: `${spec.name}'s workers (${workers.join(', ')}) to exit after SIGKILL` });
        return;
      }
      // A server that does not exit on a polite signal within the bound is killed.
      const gone = await withTimeout(exited, EXIT_BOUND_MS, `${spec.name} to exit`).then(() => true, () => false);
      if (!gone) {
        child.kill('SIGKILL');
        await withTimeout(exited, EXIT_BOUND_MS, `${spec.name} (pid ${child.pid}) to exit after ${signal}, then SIGKILL`);
      }
    }
  };

  await start();
  return {
    name: spec.name,
    pid: () => child?.pid,
    kill,
    signal: (signal) => child?.kill(signal),
    restart: async () => {
      await kill('SIGKILL');
      await start();
    },
    stop: () => kill(spec.stopSignal ?? 'SIGTERM'),
  };
};

export type NatsServer = ServerProcess & {
  readonly url: string;
  readonly port: number;
  /** The monitoring port (/healthz, /varz, /connz; no authentication: keep it on loopback). */
  readonly monitor: number;
  /**
   * SIGHUP, then waits (bounded) until the monitor reports a new config load time: nats-server has
   * re-read its file and closed the clients it no longer authorizes. Left if it did not (a bad file:
   * it keeps the previous configuration and says why in its log).
   */
  readonly reload: () => Promise<E.Either<string, void>>;
  /** Writes a new authorization block (src/nats/authorization.ts) and reloads; one at a time. */
  readonly authorize: (block: string) => Promise<E.Either<string, void>>;
};

/**
 * How long a reload may take. nats-server closes the clients whose user is gone first, then re-checks
 * the password of every other connected client, one bcrypt after another (server/reload.go,
 * reloadAuthorization): about 60 ms each at cost 10 on a shared core. So the bound grows with them.
 */
const reloadBoundMs = (connections: number): number => 10_000 + 200 * connections;

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** Up to 64 KiB of what `file` holds past `offset` (a log that only grows). */
const tailOf = (file: string, offset: number): string => {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(64 * 1024);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, offset)).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

/** The monitor's /varz: when the configuration was last loaded, and how many clients are connected. */
const varz = async (monitor: number): Promise<{ config_load_time?: string; connections?: number } | undefined> => {
  try {
    const response = await fetch(`http://127.0.0.1:${monitor}/varz`, { signal: AbortSignal.timeout(1000) });
    return (await response.json()) as { config_load_time?: string; connections?: number };
  } catch {
    return undefined;
  }
};
const configLoadTime = async (monitor: number): Promise<string | undefined> => (await varz(monitor))?.config_load_time;

/**
 * Starts nats-server on loopback. Without `authorization`, from flags as always (anyone may connect);
 * with it, from a configuration file in `dir` that includes the block (src/stack/natsConfig.ts).
 */
export type NatsServerOptions = {
  readonly authorization?: string;
  /** A member of a loopback JetStream cluster (src/stack/cluster.ts). */
  readonly cluster?: NatsClusterSettings;
  readonly syncAlways?: boolean;
};

export const natsServerBinary = (): string => process.env['JZSE_NATS_SERVER_BIN'] ?? findBinary('nats-server');

export const startNatsServer = async (dir: string, ports?: { client: number; monitor: number }, options?: NatsServerOptions): Promise<NatsServer> => {
  const client = ports?.client ?? (await freePort());
  const monitor = ports?.monitor ?? (await freePort());
  const storeDir = join(dir, 'jetstream');
  const authorization = options?.authorization;
  let args = ['-a', '127.0.0.1', '-p', String(client), '-m', String(monitor), '-js', '-sd', storeDir];
  if (authorization !== undefined || options?.cluster !== undefined || options?.syncAlways === true) {
    const settings = { client, monitor, storeDir, ...(options?.cluster === undefined ? {} : { cluster: options.cluster }), ...(options?.syncAlways === undefined ? {} : { syncAlways: options.syncAlways }) };
    const file = writeNatsServerConfig(dir, settings, authorization);
    if (E.isLeft(file)) throw new Error(`nats-server: ${file.left}`);
    args = ['-c', file.right];
  }
  const name = options?.cluster === undefined ? 'nats-server' : `nats-server-${options.cluster.serverName}`;
  const server = await manage({
    name,
    command: natsServerBinary(),
    args,
    dir,
    ready: httpReady(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`, (body) => body.includes('ok')),
  });
  const logFile = join(dir, `${name}.log`);
  const reload = async (): Promise<E.Either<string, void>> => {
    if (authorization === undefined) return E.left('nats-server was started without a configuration file: nothing to reload');
    const now = await varz(monitor);
    const before = now?.config_load_time;
    if (before === undefined || server.pid() === undefined) return E.left('nats-server is not running');
    const boundMs = reloadBoundMs(now?.connections ?? 0);
    const logOffset = sizeOf(logFile);
    server.signal('SIGHUP');
    // Done when the load time moves; refused when the log says so (nats-server keeps the old configuration).
    const outcome = await waitFor(async () => {
      if (((await configLoadTime(monitor)) ?? before) !== before) return { ok: true as const };
      const refusal = /Failed to reload server configuration: (.*)/.exec(tailOf(logFile, logOffset))?.[1];
      return refusal === undefined ? undefined : { ok: false as const, refusal };
    }, { timeoutMs: boundMs, what: 'nats-server to reload' }).catch(() => undefined);
    if (outcome === undefined) return E.left(`nats-server did not reload its configuration within ${boundMs} ms; see ${logFile}`);
    return outcome.ok ? E.right(undefined) : E.left(`nats-server refused the new configuration and keeps the previous one: ${outcome.refusal}`);
  };
  let queue: Promise<unknown> = Promise.resolve();
  const authorize = (block: string): Promise<E.Either<string, void>> => {
    const next = queue.then(async () => {
      if (authorization === undefined) return E.left('nats-server was started without authorization: restart it with a block');
      const written = writePrivateFile(join(dir, AUTHORIZATION_FILE), block);
      return E.isLeft(written) ? written : reload();
    });
    queue = next;
    return next;
  };
  return { ...server, url: `nats://127.0.0.1:${client}`, port: client, monitor, reload, authorize };
};

export type EtcdServer = ServerProcess & { readonly endpoint: string; readonly port: number };

/** One member of a loopback etcd cluster: its name and every member's `name=peer URL` (src/stack/cluster.ts). */
export type EtcdMember = { readonly name: string; readonly initialCluster: string; readonly token: string };

export const etcdBinary = (): string => process.env['JZSE_ETCD_BIN'] ?? findBinary('etcd');

export const startEtcd = async (dir: string, ports?: { client: number; peer: number }, member?: EtcdMember): Promise<EtcdServer> => {
  const client = ports?.client ?? (await freePort());
  const peer = ports?.peer ?? (await freePort());
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const name = member?.name ?? 'jzse';
  const server = await manage({
    name: member === undefined ? 'etcd' : `etcd-${name}`,
    command: etcdBinary(),
    args: [
      '--name', name, '--data-dir', join(dir, 'etcd-data'),
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', member?.initialCluster ?? `jzse=${peerUrl}`,
      // Read only when the data folder is new: a restarted member rejoins from its own data.
      ...(member === undefined ? [] : ['--initial-cluster-state', 'new', '--initial-cluster-token', member.token]),
      '--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1h',
      '--logger', 'zap', '--log-outputs', 'stderr',
    ],
    dir,
    ready: httpReady(`${clientUrl}/health`, (body) => body.includes('"health":"true"')),
  });
  return { ...server, endpoint: clientUrl, port: client };
};
