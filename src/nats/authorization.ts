// The nats-server `authorization { users = [...] }` block, from the identity store's NATS users. Pure
// and deterministic (sorted, no clock), so comparing two blocks as strings tells whether a reload is
// needed. Every value is validated, and quoted so that nothing can end the string it sits in.
import * as E from 'fp-ts/lib/Either.js';
import { PRINCIPAL_NAME, type NatsUser, type Role } from '../auth/model.js';
import { READER_ROLES, permissionsFor, type Permissions, type Streams } from './permissions.js';

export type AuthorizationInput = Streams & {
  /** The coordinator's own user: every subject, including the JetStream admin API. */
  readonly coordinator: { readonly user: string; readonly bcrypt: string };
  readonly users: readonly NatsUser[];
};

/** A user left out of the block, and why (never its hash; a malformed token id is not shown either). */
export type Skipped = { readonly tokenId: string; readonly principal: string; readonly reason: string };

export type AuthorizationBlock = {
  readonly text: string;
  /** Token ids with a NATS user in `text`, sorted. */
  readonly users: readonly string[];
  /** Regions some user acts for: each needs its consumer (src/nats/regionConsumers.ts). */
  readonly regions: readonly string[];
  readonly skipped: readonly Skipped[];
};

const TOKEN_ID = /^[a-z2-7]{16}$/;
const REGION_ID = /^[a-z0-9_-]{1,64}$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// nats-server 2.9 takes a password starting `$2a$`, `$2b$`, `$2x$` or `$2y$` for a bcrypt hash.
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const SAFE_BYTE = /^[A-Za-z0-9$._>*/+=-]$/;

/** A double-quoted nats-server string: any byte outside a small safe set is written as `\xHH`. */
export const quote = (value: string): string => {
  let out = '"';
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE_BYTE.test(c) ? c : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
};

/** For messages: a value as JSON, cut short (a bad token id may be anything). */
const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);

const list = (indent: string, values: readonly string[]): string =>
  values.length === 0 ? '[]' : `[\n${values.map((v) => `${indent}  ${quote(v)}`).join('\n')}\n${indent}]`;

const renderPermissions = (p: Permissions): string[] => [
  '      permissions: {',
  '        publish: {',
  `          allow: ${list('          ', p.publish.allow)}`,
  `          deny: ${list('          ', p.publish.deny)}`,
  '        }',
  '        subscribe: {',
  `          allow: ${list('          ', p.subscribe.allow)}`,
  '        }',
  '      }',
];

type Checked = { tokenId: string; principal: string; bcrypt: string; regions: string[]; reader: boolean; roles: Role[] };

const check = (u: NatsUser): E.Either<string, Checked> => {
  // Not shown: a store bug could have put more than the id (the secret) there.
  if (!TOKEN_ID.test(u.tokenId)) return E.left(`its token id (${u.tokenId.length} characters) is not 16 characters of a-z 2-7`);
  if (!BCRYPT.test(u.bcrypt)) return E.left('its password hash is not a bcrypt hash');
  const bad = u.grants.find((g) => g.role === 'region' && (g.region === null || !REGION_ID.test(g.region)));
  if (bad !== undefined) return E.left(`region grant ${shown(String(bad.region))} is not a region id (1-64 chars of a-z 0-9 _ -)`);
  const regions = [...new Set(u.grants.flatMap((g) => (g.role === 'region' && g.region !== null ? [g.region] : [])))].sort();
  const readers = READER_ROLES.filter((r) => u.grants.some((g) => g.role === r));
  return E.right({ tokenId: u.tokenId, principal: u.principal, bcrypt: u.bcrypt, regions, reader: readers.length > 0, roles: readers });
};

/** The block for `input`; Left only when the coordinator's own entry or a stream name is unusable. */
export const authorizationBlock = (input: AuthorizationInput): E.Either<string, AuthorizationBlock> => {
  const { coordinator, eventStream, syncStream } = input;
  if (!USER_NAME.test(coordinator.user)) return E.left(`the coordinator's NATS user ${shown(coordinator.user)} is not 1-64 chars of A-Z a-z 0-9 . _ -`);
  if (!BCRYPT.test(coordinator.bcrypt)) return E.left("the coordinator's NATS password hash is not a bcrypt hash");
  for (const name of [eventStream, syncStream]) {
    if (!STREAM_NAME.test(name)) return E.left(`stream name ${shown(name)} is not 1-64 chars of A-Z a-z 0-9 _ -`);
  }
  const skipped: Skipped[] = [];
  const byId = new Map<string, Checked>();
  for (const u of input.users) {
    const checked = check(u);
    if (E.isLeft(checked)) {
      skipped.push({ tokenId: TOKEN_ID.test(u.tokenId) ? u.tokenId : '(malformed)', principal: u.principal, reason: checked.left });
    } else if (byId.has(u.tokenId) || u.tokenId === coordinator.user) {
      skipped.push({ tokenId: u.tokenId, principal: u.principal, reason: 'token id is already a user of the block' });
    } else {
      byId.set(u.tokenId, checked.right);
    }
  }
  const lines = [
    '# Generated by the JzSE coordinator from its identity store (jzse nats-config): do not edit,',
    '# regenerate. One user per NATS-facing token (user = token id, password = bcrypt of the token).',
    'authorization {',
    '  users = [',
    '    # the coordinator: every subject',
    `    { user: ${quote(coordinator.user)}, password: ${quote(coordinator.bcrypt)} }`,
  ];
  const users: string[] = [];
  const regions = new Set<string>();
  for (const u of [...byId.values()].sort((a, b) => (a.tokenId < b.tokenId ? -1 : a.tokenId > b.tokenId ? 1 : 0))) {
    const p = permissionsFor(u.tokenId, u, { eventStream, syncStream });
    if (p === undefined) continue;
    users.push(u.tokenId);
    for (const r of u.regions) regions.add(r);
    const roles = [...u.regions.map((r) => `region ${r}`), ...u.roles.map((r) => `${r} (reads the event stream)`)].join(', ');
    const who = PRINCIPAL_NAME.test(u.principal) ? `principal ${u.principal}` : 'principal (name not shown)';
    lines.push(`    # ${who}: ${roles}`, '    {', `      user: ${quote(u.tokenId)}`, `      password: ${quote(u.bcrypt)}`, ...renderPermissions(p), '    }');
  }
  lines.push('  ]', '}', '');
  return E.right({ text: lines.join('\n'), users, regions: [...regions].sort(), skipped });
};
