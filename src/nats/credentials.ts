// The coordinator's own NATS user: `nats.user` with the password in `nats.password_file`, or for the
// embedded nats-server a password made once under data_dir. The password itself never leaves this
// module except to the NATS client; messages name the file, never its content.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import bcrypt from 'bcryptjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../config/schema.js';

export type NatsCredentials = { readonly user: string; readonly pass: string };

/** The embedded server's coordinator user when `nats.user` is not set (not a token id: it has a `-`). */
export const EMBEDDED_COORDINATOR_USER = 'jzse-coordinator';
/**
 * The coordinator's hash is cheap on purpose: on each reload nats-server 2.9 re-checks the password of
 * every connected client, one after another (server/reload.go, after it has closed the clients whose
 * user is gone), so each coordinator connection would add a cost-10 bcrypt (~60 ms) to every reload.
 * The password is 256 random bits: no work factor is needed against guessing it.
 */
export const COORDINATOR_BCRYPT_COST = 4;

export const coordinatorUser = (config: Config): string => config.nats.user ?? EMBEDDED_COORDINATOR_USER;

/** `nats.password_file`, or `<data_dir>/nats-coordinator.password`. */
export const coordinatorPasswordFile = (config: Config): string =>
  resolve(config.nats.password_file ?? join(config.coordinator.data_dir, 'nats-coordinator.password'));

const code = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? 'error';

export const readPasswordFile = (file: string): E.Either<string, string> => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return E.left(`cannot read the NATS password file ${file} (${code(error)})`);
  }
  const password = text.trim();
  if (password === '' || /\s/.test(password)) return E.left(`the NATS password file ${file} must hold one password on one line`);
  return E.right(password);
};

/** Reads the password file, or first creates it: 32 random bytes (base64url), mode 0600. */
export const ensurePasswordFile = (file: string): E.Either<string, { password: string; created: boolean }> => {
  try {
    mkdirSync(dirname(file), { recursive: true });
    // `wx`: never overwrite a password another process just made.
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return E.map((password: string) => ({ password, created: true }))(readPasswordFile(file));
  } catch (error) {
    if (code(error) !== 'EEXIST') return E.left(`cannot create the NATS password file ${file} (${code(error)})`);
    return E.map((password: string) => ({ password, created: false }))(readPasswordFile(file));
  }
};

/**
 * bcrypt of the coordinator's password with a salt derived from it: the same hash on every start
 * and every instance, so the generated block only changes when a user does. (A salt guards low-entropy
 * passwords against precomputed tables; this one is 256 random bits.)
 */
export const coordinatorBcrypt = (password: string): Promise<string> => {
  const seed = createHash('sha256').update('jzse nats coordinator salt\0').update(password).digest();
  const salt = `$2b$${String(COORDINATOR_BCRYPT_COST).padStart(2, '0')}$${bcrypt.encodeBase64([...seed.subarray(0, 16)], 16)}`;
  return bcrypt.hash(password, salt);
};

/**
 * What the coordinator (and `jzse`) present to NATS: `nats.user` with its password file; else, for
 * the embedded server (`nats.url` null), its generated password once it exists; else nothing.
 */
export const configuredCredentials = (config: Config): E.Either<string, NatsCredentials | undefined> => {
  const file = coordinatorPasswordFile(config);
  const user = config.nats.user;
  if (user !== null) return E.map((pass: string) => ({ user, pass }))(readPasswordFile(file));
  if (config.nats.password_file !== null) return E.left('nats.password_file is set but nats.user is not: set both or neither');
  if (config.nats.url !== null) return E.right(undefined);
  const read = readPasswordFile(file);
  return E.right(E.isRight(read) ? { user: EMBEDDED_COORDINATOR_USER, pass: read.right } : undefined);
};
