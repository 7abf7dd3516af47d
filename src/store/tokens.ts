// Token material: `jzse_<id>_<secret>` from the system's CSPRNG, and the hashes the store keeps in
// its place. The id is public (logs, the NATS user name); only the secret proves anything.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, no padding: 10 bytes → 16 characters. */
const base32 = (bytes: Uint8Array): string => {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
};

export type Minted = { readonly token: string; readonly id: string; readonly secret: string };

/** 80 random bits of id, 256 of secret (TOKEN_PATTERN). */
export const mintToken = (): Minted => {
  const id = base32(randomBytes(10));
  const secret = randomBytes(32).toString('base64url');
  return { token: `jzse_${id}_${secret}`, id, secret };
};

export const secretHash = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** Constant time in the content (the lengths are public: always 32 bytes). */
export const sameHash = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

// bcrypt reads at most 72 bytes; a token is 65.
const BCRYPT_COST = 10;
export const natsHash = (token: string): Promise<string> => bcrypt.hash(token, BCRYPT_COST);
