// The first start of an empty identity store: one admin, whose token is shown once (on stdout,
// not in the structured log) and written to a file only its owner can read, for `jzse` to use.
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Issued } from './model.js';

/** Writes the token file with mode 0600 (also when it already existed with a wider mode). */
export const writeTokenFile = (file: string, token: string): void => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
};

export const firstAdminNotice = (issued: Issued, file: string): string => [
  '',
  '================================================================================',
  ' JzSE: the identity store was empty, so a first admin was created.',
  ` principal: ${issued.info.principal}   token id: ${issued.info.id}`,
  ` token (shown once): ${issued.token}`,
  ` also written to ${file} (mode 0600); jzse commands read it from there.`,
  ' Create your own principals and tokens (jzse principal create ... --issue-token), then',
  ` revoke this one: jzse token revoke ${issued.info.id}`,
  '================================================================================',
  '',
].join('\n');
