// `jzse whoami`, `jzse principal …`, `jzse token …`: principals, roles and tokens, through the
// coordinator's IdentityService (admin only) with the caller's token.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config/schema.js';
import { PRINCIPAL_KINDS, ROLES } from '../auth/model.js';
import { apiTarget, callApi, type ApiTarget } from './api.js';
import * as E from 'fp-ts/lib/Either.js';
import { failed, usage } from '../audit/errors.js';
import type { Writer, Format } from './output.js';

type Ts = { seconds: string; nanos: number } | null;
type GrantMsg = { role: string; region: string };
type PrincipalMsg = { name: string; kind: string; grants: GrantMsg[]; created_at: Ts; disabled_at: Ts };
type TokenMsg = { id: string; principal: string; name: string; created_at: Ts; expires_at: Ts; last_used_at: Ts; revoked_at: Ts };

const iso = (t: Ts): string | null => (t === null ? null : new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString());
const toTs = (d: Date) => ({ seconds: String(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1e6 });

const principalJson = (p: PrincipalMsg) => ({ name: p.name, kind: p.kind, grants: p.grants.map((g) => (g.region === '' ? g.role : `${g.role}:${g.region}`)), createdAt: iso(p.created_at), disabledAt: iso(p.disabled_at) });
const tokenJson = (t: TokenMsg) => ({ id: t.id, principal: t.principal, name: t.name, createdAt: iso(t.created_at), expiresAt: iso(t.expires_at), lastUsedAt: iso(t.last_used_at), revokedAt: iso(t.revoked_at) });

/** `operator`, `region:eu-west` → a grant message. */
const grantArg = (text: string, previous: GrantMsg[] = []): GrantMsg[] => {
  const [role = '', region = ''] = text.split(':', 2);
  if (!(ROLES as readonly string[]).includes(role)) throw new InvalidArgumentError(`"${text}": the role must be one of ${ROLES.join(', ')} (region:<id> for a region)`);
  return [...previous, { role, region }];
};

const DURATION = /^(\d+)(m|h|d)$/;
/** An RFC 3339 time or a duration from now (30m, 12h, 90d). */
const expiresArg = (now: () => number) => (text: string): Date => {
  const d = DURATION.exec(text);
  if (d?.[1] !== undefined && d[2] !== undefined) return new Date(now() + Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm' | 'h' | 'd']);
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t)) throw new InvalidArgumentError(`"${text}": expected an RFC 3339 time (2027-01-01T00:00:00Z) or a duration like 30m, 12h, 90d`);
  return new Date(t);
};

export type IdentityCli = {
  readonly config: (cmd: Command) => Config;
  readonly format: (cmd: Command) => Format;
  readonly out: Writer;
  readonly env: NodeJS.ProcessEnv;
};

export const addIdentityCommands = (program: Command, cli: IdentityCli): void => {
  const target = (cmd: Command): ApiTarget => {
    const g = cmd.optsWithGlobals<{ grpc?: string; token?: string }>();
    return apiTarget(cli.config(cmd), cli.env, { ...(g.grpc === undefined ? {} : { grpc: g.grpc }), ...(g.token === undefined ? {} : { token: g.token }) });
  };
  const show = async (cmd: Command, json: unknown, text: string): Promise<void> => {
    if (cli.format(cmd) === 'json') await cli.out.json(json);
    else await cli.out.write(`${text}\n`);
  };
  const shownOnce = (token: string): string => `token (shown once, store it now; the coordinator keeps only a hash): ${token}`;
  const principalLine = (p: ReturnType<typeof principalJson>): string => `${p.name}  ${p.kind}  ${p.grants.join(',') || '(no roles)'}${p.disabledAt === null ? '' : `  disabled ${p.disabledAt}`}`;
  const tokenLine = (t: ReturnType<typeof tokenJson>): string =>
    `${t.id}  ${t.principal}  ${t.name}  created ${t.createdAt}  expires ${t.expiresAt ?? 'never'}  last used ${t.lastUsedAt ?? 'never'}${t.revokedAt === null ? '' : `  REVOKED ${t.revokedAt}`}`;

  program
    .command('whoami')
    .description('The principal and token the coordinator sees for your token.')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await callApi<{ principal: PrincipalMsg | null; token: TokenMsg | null; authentication_enabled: boolean }>(target(cmd), 'IdentityService', 'WhoAmI', {});
      const json = r.principal === null || r.token === null ? { authentication: false } : { authentication: true, principal: principalJson(r.principal), token: tokenJson(r.token) };
      await show(cmd, json, r.principal === null ? 'authentication is off on this coordinator' : `${principalLine(principalJson(r.principal))}\ntoken ${r.token?.id ?? ''}`);
    });

  const principal = program.command('principal').description('People, regions and services that may call the coordinator, and their roles (admin only).');
  principal
    .command('create <name>')
    .description(`Create a principal. Roles: ${ROLES.join(', ')}; a region role names its region (region:<id>).`)
    .addOption(new Option('--kind <kind>', 'what it is').choices([...PRINCIPAL_KINDS]).default('person'))
    .option('--role <role>', 'a role to grant, repeatable (operator, region:eu-west, ...)', grantArg)
    .option('--issue-token [name]', 'also issue a token for it (named <name>, default "default") and print it once')
    .addHelpText('after', '\nExamples:\n  $ jzse principal create ann@ops --role operator --issue-token\n  $ jzse principal create eu-west --kind region --role region:eu-west --issue-token\n')
    .action(async (name: string, o: { kind: string; role?: GrantMsg[]; issueToken?: string | boolean }, cmd: Command) => {
      const t = target(cmd);
      const r = await callApi<{ principal: PrincipalMsg }>(t, 'IdentityService', 'CreatePrincipal', { name, kind: o.kind, grants: o.role ?? [] });
      const p = principalJson(r.principal);
      if (o.issueToken === undefined) return show(cmd, p, principalLine(p));
      const issued = await callApi<{ token: string; info: TokenMsg }>(t, 'IdentityService', 'IssueToken', { principal: name, name: typeof o.issueToken === 'string' ? o.issueToken : 'default', expires_at: null });
      return show(cmd, { ...p, token: issued.token, tokenInfo: tokenJson(issued.info) }, `${principalLine(p)}\n${shownOnce(issued.token)}`);
    });
  principal
    .command('list')
    .description('Every principal with its roles.')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await callApi<{ principals: PrincipalMsg[] }>(target(cmd), 'IdentityService', 'ListPrincipals', {});
      const list = r.principals.map(principalJson);
      if (cli.format(cmd) === 'json') for (const p of list) await cli.out.json(p);
      else await cli.out.write(`${list.map(principalLine).join('\n')}\n`);
    });
  principal
    .command('grant <name>')
    .description("Replace a principal's roles with the ones given (none: it keeps its tokens but may do nothing).")
    .option('--role <role>', 'a role, repeatable', grantArg)
    .action(async (name: string, o: { role?: GrantMsg[] }, cmd: Command) => {
      const r = await callApi<{ principal: PrincipalMsg }>(target(cmd), 'IdentityService', 'SetGrants', { name, grants: o.role ?? [] });
      const p = principalJson(r.principal);
      await show(cmd, p, principalLine(p));
    });
  principal
    .command('disable <name>')
    .description('Disable a principal: every token of it is refused from now on (within auth.cache_ttl on every instance).')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const r = await callApi<{ principal: PrincipalMsg }>(target(cmd), 'IdentityService', 'DisablePrincipal', { name });
      const p = principalJson(r.principal);
      await show(cmd, p, principalLine(p));
    });

  const token = program.command('token').description('API tokens: issue, list, revoke, rotate (admin only). A token is shown once, when issued.');
  const expires = expiresArg(Date.now);
  token
    .command('issue <principal>')
    .description('Issue a token for a principal and print it once.')
    .option('--name <name>', 'what the token is for', 'default')
    .option('--expires <when>', 'an RFC 3339 time or a duration from now (30m, 12h, 90d); default: never', expires)
    .action(async (p: string, o: { name: string; expires?: Date }, cmd: Command) => {
      const r = await callApi<{ token: string; info: TokenMsg }>(target(cmd), 'IdentityService', 'IssueToken', { principal: p, name: o.name, expires_at: o.expires === undefined ? null : toTs(o.expires) });
      await show(cmd, { token: r.token, info: tokenJson(r.info) }, `${tokenLine(tokenJson(r.info))}\n${shownOnce(r.token)}`);
    });
  token
    .command('list')
    .description('Tokens (never their secrets): id, principal, name, expiry, last use, revocation.')
    .option('--principal <name>', "only this principal's")
    .action(async (o: { principal?: string }, cmd: Command) => {
      const r = await callApi<{ tokens: TokenMsg[] }>(target(cmd), 'IdentityService', 'ListTokens', { principal: o.principal ?? '' });
      const list = r.tokens.map(tokenJson);
      if (cli.format(cmd) === 'json') for (const t of list) await cli.out.json(t);
      else await cli.out.write(list.length === 0 ? 'no tokens\n' : `${list.map(tokenLine).join('\n')}\n`);
    });
  token
    .command('revoke <id>')
    .description('Revoke a token (its id, the part after jzse_): refused everywhere within auth.cache_ttl.')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await callApi<{ token: TokenMsg }>(target(cmd), 'IdentityService', 'RevokeToken', { id });
      const t = tokenJson(r.token);
      await show(cmd, t, tokenLine(t));
    });
  token
    .command('rotate <id>')
    .description('Issue a new token for the same principal and name, and revoke the old one, in one step.')
    .option('--expires <when>', 'expiry of the new token (RFC 3339 or 30m, 12h, 90d)', expires)
    .action(async (id: string, o: { expires?: Date }, cmd: Command) => {
      const r = await callApi<{ token: string; info: TokenMsg }>(target(cmd), 'IdentityService', 'RotateToken', { id, expires_at: o.expires === undefined ? null : toTs(o.expires) });
      await show(cmd, { token: r.token, info: tokenJson(r.info) }, `${tokenLine(tokenJson(r.info))}\n${shownOnce(r.token)}`);
    });
};

/**
 * `jzse nats-config`: the authorization block for an external nats-server, from the identity store
 * itself (database.url; an embedded PGlite store is its coordinator's own, which applies it itself).
 */
export const addNatsConfigCommand = (program: Command, cli: IdentityCli & { readonly err: (s: string) => void }): void => {
  program
    .command('nats-config')
    .description("Print the nats-server authorization block (one user per live token, the coordinator's own user) for an external server; apply it with nats-server --signal reload.")
    .addHelpText('after', '\nExample:\n  $ DATABASE_URL=postgres://... jzse nats-config > /etc/nats/jzse-authorization.conf && nats-server --signal reload\n')
    .action(async (_o: unknown, cmd: Command) => {
      // Loaded here: the store's drivers (PGlite's WASM among them) cost every other command memory.
      const [{ coordinatorEntry, natsConfigText }, { identityStoreOptions, openIdentityStore }] = await Promise.all([
        import('../nats/natsConfigText.js'), import('../store/identity.js'),
      ]);
      const config = cli.config(cmd);
      const coordinator = await coordinatorEntry(config);
      if (E.isLeft(coordinator)) throw usage(coordinator.left);
      const opened = await openIdentityStore(identityStoreOptions(config));
      if (E.isLeft(opened)) throw failed(`identity store: ${opened.left}`);
      try {
        const block = natsConfigText(await opened.right.natsUsers(), { coordinator: coordinator.right, eventStream: config.nats.stream });
        if (E.isLeft(block)) throw failed(block.left);
        for (const s of block.right.skipped) cli.err(`jzse: skipped: ${JSON.stringify(s)}\n`);
        await cli.out.write(block.right.text.endsWith('\n') ? block.right.text : `${block.right.text}\n`);
      } finally {
        await opened.right.close();
      }
    });
};
