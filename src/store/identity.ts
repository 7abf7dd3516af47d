// PLACEHOLDER until the identity store lands (branch hA): the interface the API codes against.
import type * as E from 'fp-ts/lib/Either.js';
import type { Caller, Grant, Issued, NatsUser, Principal, PrincipalKind, TokenInfo, Unverified } from '../auth/model.js';
import type { Rejection } from '../../projections/rejection.js';
import type { Logger } from '../observability/log.js';

export interface IdentityStore {
  createPrincipal(input: { name: string; kind: PrincipalKind; grants: readonly Grant[] }): Promise<E.Either<Rejection, Principal>>;
  getPrincipal(name: string): Promise<Principal | undefined>;
  listPrincipals(): Promise<Principal[]>;
  setGrants(name: string, grants: readonly Grant[]): Promise<E.Either<Rejection, Principal>>;
  disablePrincipal(name: string): Promise<E.Either<Rejection, Principal>>;
  issueToken(principal: string, o: { name: string; expiresAt: Date | null }): Promise<E.Either<Rejection, Issued>>;
  listTokens(principal?: string): Promise<TokenInfo[]>;
  revokeToken(id: string): Promise<E.Either<Rejection, TokenInfo>>;
  rotateToken(id: string, o: { expiresAt?: Date | null }): Promise<E.Either<Rejection, Issued>>;
  verify(token: string): Promise<E.Either<Unverified, Caller>>;
  natsUsers(): Promise<NatsUser[]>;
  bootstrapAdmin(): Promise<Issued | undefined>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const openIdentityStore = (_o: { url: string | null; dataDir: string; now?: () => Date; log?: Logger }): Promise<E.Either<string, IdentityStore>> =>
  Promise.reject(new Error('the identity store has not landed yet'));
