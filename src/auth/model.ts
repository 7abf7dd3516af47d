// Who may do what: principals, their grants and their API tokens, as the identity store holds them
// and as every door (gRPC, REST, NATS) checks them. Types and pure rules only.

export const ROLES = ['admin', 'operator', 'auditor', 'region'] as const;
export type Role = (typeof ROLES)[number];

/** A role held by a principal; a `region` grant names the one region it may act for (null otherwise). */
export type Grant = { readonly role: Role; readonly region: string | null };

export const PRINCIPAL_KINDS = ['person', 'region', 'service'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** Principal names are what the log records as the proven identity: short, printable, unique. */
export const PRINCIPAL_NAME = /^[A-Za-z0-9._@:-]{1,128}$/;

export type Principal = {
  readonly id: string;
  readonly name: string;
  readonly kind: PrincipalKind;
  readonly grants: readonly Grant[];
  readonly createdAt: string;
  /** A disabled principal's tokens are refused everywhere. */
  readonly disabledAt: string | null;
};

/** A token as the store describes it: never its secret (only a hash of it is stored). */
export type TokenInfo = {
  /** The public part of the token (`jzse_<id>_<secret>`): safe in logs, the NATS user name. */
  readonly id: string;
  readonly principal: string;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
};

/** A newly issued token: the secret is shown once, here, and never again. */
export type Issued = { readonly token: string; readonly info: TokenInfo };

/** A caller whose token the store verified. */
export type Caller = { readonly principal: Principal; readonly token: TokenInfo };

/** Why a presented token was refused (all map to UNAUTHENTICATED / 401). */
export type Unverified = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'disabled';

/** `jzse_` + 16 chars of base32 (the id) + `_` + 43 chars of base64url (32 random bytes). */
export const TOKEN_PATTERN = /^jzse_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;

export const parseToken = (token: string): { readonly id: string; readonly secret: string } | undefined => {
  const m = TOKEN_PATTERN.exec(token);
  return m?.[1] !== undefined && m[2] !== undefined ? { id: m[1], secret: m[2] } : undefined;
};

/** The user a NATS-facing token becomes in the nats-server authorization block. */
export type NatsUser = {
  readonly tokenId: string;
  /** bcrypt of the whole token, computed when it was issued: nats-server 2.9 verifies these. */
  readonly bcrypt: string;
  readonly principal: string;
  readonly grants: readonly Grant[];
};
