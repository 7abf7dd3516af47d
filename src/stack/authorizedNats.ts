// The embedded nats-server with authorization: the coordinator's password (made once), the server
// started from a configuration file holding only the coordinator's user, and `apply` to bring it to
// the identity store's NATS users (new regions' consumers first, then the block, then SIGHUP).
import * as E from 'fp-ts/lib/Either.js';
import type { NatsUser } from '../auth/model.js';
import type { Config } from '../config/schema.js';
import { authorizationBlock, type Skipped } from '../nats/authorization.js';
import { connectNats, type Nats } from '../nats/connection.js';
import {
  coordinatorBcrypt, coordinatorPasswordFile, coordinatorUser, ensurePasswordFile, type NatsCredentials,
} from '../nats/credentials.js';
import { ensureRegionConsumer } from '../nats/regionConsumers.js';
import { ensureOutboundStream, streamSettings } from '../nats/stream.js';
import type { Logger } from '../observability/log.js';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { startNatsServer, type NatsServer } from './processes.js';
import { delay } from '../util/waitFor.js';

export type Applied = {
  /** False when the block was already in force: nothing was written or reloaded. */
  readonly changed: boolean;
  readonly users: number;
  readonly skipped: readonly Skipped[];
  /** Regions whose consumer could not be set up: their users exist, their reads fail until it is. */
  readonly consumerProblems: readonly string[];
};

export type AuthorizedNats = {
  readonly server: NatsServer;
  /** What the coordinator's own connections present (connectNats). */
  readonly credentials: NatsCredentials;
  /** Brings the server to `users`; one call at a time. Left when the server did not take the block. */
  readonly apply: (users: readonly NatsUser[]) => Promise<E.Either<string, Applied>>;
  /**
   * Applies `list()` now and then every `intervalMs` until `signal` aborts: revocations made through
   * another instance and tokens that expire (nats-server 2.9 users never expire) reach the server
   * within one interval plus a reload. Unchanged users cost a query and a string comparison.
   */
  readonly follow: (list: () => Promise<readonly NatsUser[]>, o: { intervalMs: number; signal: AbortSignal }) => Promise<void>;
  readonly stop: () => Promise<void>;
};

export const startAuthorizedNats = async (o: {
  dir: string; config: Config; log: Logger; ports?: { client: number; monitor: number };
}): Promise<E.Either<string, AuthorizedNats>> => {
  const { config, log } = o;
  const file = coordinatorPasswordFile(config);
  const password = ensurePasswordFile(file);
  if (E.isLeft(password)) return password;
  if (password.right.created) log.info({ file }, 'NATS password of the coordinator created (mode 0600)');
  const credentials: NatsCredentials = { user: coordinatorUser(config), pass: password.right.password };
  const coordinator = { user: credentials.user, bcrypt: await coordinatorBcrypt(credentials.pass) };
  const streams = { eventStream: config.nats.stream, syncStream: OUTBOUND_STREAM };
  const first = authorizationBlock({ coordinator, users: [], ...streams });
  if (E.isLeft(first)) return first;
  const server = await startNatsServer(o.dir, o.ports, { authorization: first.right.text });

  let applied = first.right.text;
  const consumersOf = new Set<string>();
  let nats: Nats | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const ensureConsumers = async (regions: readonly string[]): Promise<string[]> => {
    const fresh = regions.filter((r) => !consumersOf.has(r));
    if (fresh.length === 0) return [];
    try {
      nats ??= await connectNats(server.url, `jzse-${config.coordinator.id}-authorizer`, log, credentials);
      await ensureOutboundStream(nats.jsm, streamSettings(config), config.sync.request_retention);
    } catch (error) {
      return [`cannot set up ${OUTBOUND_STREAM}: ${error instanceof Error ? error.message : String(error)}`];
    }
    const problems: string[] = [];
    for (const region of fresh) {
      const made = await ensureRegionConsumer(nats.jsm, OUTBOUND_STREAM, region, log);
      if (E.isLeft(made)) problems.push(made.left);
      else consumersOf.add(region);
    }
    return problems;
  };

  const applyNow = async (users: readonly NatsUser[]): Promise<E.Either<string, Applied>> => {
    const block = authorizationBlock({ coordinator, users, ...streams });
    if (E.isLeft(block)) return block;
    const { text, skipped, regions } = block.right;
    for (const s of skipped) log.warn({ tokenId: s.tokenId, principal: s.principal, reason: s.reason }, 'token left out of the NATS authorization');
    if (text === applied) return E.right({ changed: false, users: block.right.users.length, skipped, consumerProblems: [] });
    // Before the users exist, so a new region finds its consumer; a failure never holds back a revocation.
    const consumerProblems = await ensureConsumers(regions);
    for (const p of consumerProblems) log.error({ problem: p }, 'region consumer not set up');
    const done = await server.authorize(text);
    if (E.isLeft(done)) return done;
    applied = text;
    log.info({ users: block.right.users.length, regions: regions.length }, 'NATS authorization applied');
    return E.right({ changed: true, users: block.right.users.length, skipped, consumerProblems });
  };

  const apply = (users: readonly NatsUser[]): Promise<E.Either<string, Applied>> => {
    const next = queue.then(() => applyNow(users));
    queue = next;
    return next;
  };

  const follow = async (list: () => Promise<readonly NatsUser[]>, f: { intervalMs: number; signal: AbortSignal }): Promise<void> => {
    let failing = false;
    while (!f.signal.aborted) {
      const outcome = await list().then((users) => apply(users), (error: unknown) => E.left(`cannot list the NATS users: ${error instanceof Error ? error.message : String(error)}`));
      // Said once per run of failures, not every interval.
      if (E.isLeft(outcome) && !failing) log.error({ problem: outcome.left }, 'NATS authorization not brought up to date; retrying');
      if (E.isRight(outcome) && failing) log.info('NATS authorization up to date again');
      failing = E.isLeft(outcome);
      await delay(f.intervalMs, f.signal);
    }
  };

  return E.right({
    server,
    credentials,
    apply,
    follow,
    stop: async () => {
      await nats?.nc.close().catch(() => undefined);
      await server.stop();
    },
  });
};
