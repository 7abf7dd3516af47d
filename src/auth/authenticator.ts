// Verifies bearer tokens against the identity store, with a short cache: a verdict is reused for
// at most `ttlMs` (≤ 1 s), so a token revoked on any instance is refused everywhere within that.
// When the store is unreachable, tokens verified before keep working (up to their own expiry);
// revocations made meanwhile apply once it answers again. Unknown tokens are never let in then.
import * as E from 'fp-ts/lib/Either.js';
import type { Caller, Unverified } from './model.js';
import { parseToken } from './model.js';
import type { Logger } from '../observability/log.js';

export type Verify = (token: string) => Promise<E.Either<Unverified, Caller>>;

/** The store could not be asked and held no earlier verdict for the token. */
export class StoreUnreachable extends Error {
  constructor(cause: unknown) {
    super(`the identity store is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnreachable';
  }
}

type Entry = { readonly verdict: E.Either<Unverified, Caller>; readonly at: number };

export type AuthenticatorOptions = {
  readonly ttlMs: number;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Bound on cached verdicts; the oldest go first. */
  readonly maxEntries?: number;
  readonly onStale?: () => void;
};

export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<E.Either<Unverified, Caller>>>();
  private readonly now: () => number;
  private lastWarned = 0;

  constructor(private readonly verify: Verify, private readonly o: AuthenticatorOptions) {
    this.now = o.now ?? Date.now;
  }

  authenticate(token: string): Promise<E.Either<Unverified, Caller>> {
    if (parseToken(token) === undefined) return Promise.resolve(E.left('malformed'));
    const hit = this.cache.get(token);
    if (hit !== undefined && this.now() - hit.at < this.o.ttlMs && this.stillValid(hit)) return Promise.resolve(hit.verdict);
    const pending = this.inFlight.get(token);
    if (pending !== undefined) return pending;
    const asked = this.ask(token, hit).finally(() => this.inFlight.delete(token));
    this.inFlight.set(token, asked);
    return asked;
  }

  /** Drops every verdict about one token (this instance revoked it) or one principal's tokens. */
  forget(match: { tokenId?: string; principal?: string }): void {
    for (const [token, entry] of this.cache) {
      const id = parseToken(token)?.id;
      const principal = E.isRight(entry.verdict) ? entry.verdict.right.principal.name : undefined;
      if ((match.tokenId !== undefined && id === match.tokenId) || (match.principal !== undefined && principal === match.principal)) this.cache.delete(token);
    }
  }

  private stillValid(entry: Entry): boolean {
    if (E.isLeft(entry.verdict)) return true;
    const expires = entry.verdict.right.token.expiresAt;
    return expires === null || Date.parse(expires) > this.now();
  }

  private async ask(token: string, previous: Entry | undefined): Promise<E.Either<Unverified, Caller>> {
    let verdict: E.Either<Unverified, Caller>;
    try {
      verdict = await this.verify(token);
    } catch (error) {
      if (previous !== undefined && E.isRight(previous.verdict) && this.stillValid(previous)) {
        this.o.onStale?.();
        if (this.now() - this.lastWarned > 10_000) {
          this.lastWarned = this.now();
          this.o.log?.warn({ err: error }, 'identity store unreachable: serving tokens verified before it went away');
        }
        return previous.verdict;
      }
      throw new StoreUnreachable(error);
    }
    this.cache.delete(token);
    this.cache.set(token, { verdict, at: this.now() });
    const max = this.o.maxEntries ?? 10_000;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return verdict;
  }
}

/** `authorization: Bearer <token>` → the token, or why the header does not carry one. */
export const bearerToken = (header: string | undefined): E.Either<string, string> => {
  if (header === undefined || header.trim() === '') return E.left('no token: send "authorization: Bearer <token>"');
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1] === undefined ? E.left('the authorization header must read "Bearer <token>"') : E.right(m[1]);
};

export const UNVERIFIED_REASON: Readonly<Record<Unverified, string>> = {
  malformed: 'the token is not a JzSE token (jzse_<id>_<secret>)',
  unknown: 'the token is not known',
  revoked: 'the token was revoked',
  expired: 'the token has expired',
  disabled: "the token's principal is disabled",
};
