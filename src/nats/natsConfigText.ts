// What `jzse nats-config` prints for an external nats-server: the authorization block with a header
// saying how to apply it. The CLI passes the identity store's NATS users and the configuration.
import * as E from 'fp-ts/lib/Either.js';
import type { NatsUser } from '../auth/model.js';
import type { Config } from '../config/schema.js';
import { OUTBOUND_STREAM } from '../../streams/definition.js';
import { authorizationBlock, type AuthorizationBlock } from './authorization.js';
import { coordinatorBcrypt, coordinatorPasswordFile, readPasswordFile } from './credentials.js';

const HEADER = [
  '# JzSE nats-server authorization, printed by `jzse nats-config`. It holds password hashes: keep the',
  '# file readable by nats-server only. Include it from the server configuration',
  '#   include "jzse-authorization.conf"',
  '# (a path relative to that file), then reload: nats-server --signal reload (SIGHUP). Print and reload',
  '# again after every change of principals, grants or tokens, and when a token expires: nats-server 2.9',
  "# users do not expire. The coordinator creates each region's consumer jzse-sync-<region>.",
  '',
].join('\n');

/** The text to print (deterministic: the same store gives the same text); the users left out go to stderr. */
export const natsConfigText = (
  users: readonly NatsUser[],
  o: { coordinator: { user: string; bcrypt: string }; eventStream: string; syncStream?: string },
): E.Either<string, AuthorizationBlock> =>
  E.map((block: AuthorizationBlock) => ({ ...block, text: `${HEADER}${block.text}` }))(
    authorizationBlock({ coordinator: o.coordinator, users, eventStream: o.eventStream, syncStream: o.syncStream ?? OUTBOUND_STREAM }),
  );

/** The coordinator's entry for an external server: `nats.user` and the bcrypt of its password file. */
export const coordinatorEntry = async (config: Config): Promise<E.Either<string, { user: string; bcrypt: string }>> => {
  const user = config.nats.user;
  if (user === null) return E.left("set nats.user and nats.password_file: the block must hold the coordinator's own user");
  const password = readPasswordFile(coordinatorPasswordFile(config));
  return E.isLeft(password) ? password : E.right({ user, bcrypt: await coordinatorBcrypt(password.right) });
};
