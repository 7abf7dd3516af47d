// The REST tests' harness: a stack with authentication on, coordinators sharing one identity store (PGlite),
// a token per role, and a small HTTP client whose every call is bounded.
import * as E from 'fp-ts/lib/Either.js';
import type { Coordinator } from '../../src/coordinator.js';
import type { Issued } from '../../src/auth/model.js';
import type { IdentityStore } from '../../src/store/identity.js';
import { join } from 'node:path';
import { openIdentityStore } from '../../src/store/identity.js';
import { quietLog, startInProcess, startStack, type Stack } from './stack.js';

export type Reply = { readonly status: number; readonly headers: Headers; readonly text: string; readonly json: unknown };

export type Call = {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Sent as is (no JSON encoding), with the given content type. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
};

export const restClient = (base: () => string, defaultToken: () => string | undefined) =>
  async (method: string, path: string, c: Call = {}): Promise<Reply> => {
    const token = c.token === undefined ? defaultToken() : c.token;
    const headers: Record<string, string> = { ...(token === null || token === undefined ? {} : { authorization: `Bearer ${token}` }), ...c.headers };
    let body: string | undefined;
    if (c.raw !== undefined) body = c.raw;
    else if (c.body !== undefined) {
      body = JSON.stringify(c.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base()}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };

export type RoleTokens = { admin: string; operator: string; auditor: string; region: string; other: string };

export type RestStack = {
  readonly stack: Stack;
  readonly store: IdentityStore;
  readonly a: Coordinator;
  readonly b: Coordinator;
  readonly tokens: RoleTokens;
  readonly stop: () => Promise<void>;
};

const must = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`setup failed: ${JSON.stringify(e.left)}`);
  return e.right;
};

/** A stack with tokens on, an embedded PGlite identity store in its folder, and the first admin's token. */
export const startAuthStack = async (env: Record<string, string> = {}): Promise<{ stack: Stack; store: IdentityStore; admin: Issued }> => {
  const stack = await startStack({ JZSE_AUTH_ENABLED: 'true', ...env });
  const store = must(await openIdentityStore({ url: null, dataDir: join(stack.dir, 'identity'), log: quietLog }));
  const admin = await store.bootstrapAdmin();
  if (admin === undefined) throw new Error('no bootstrap admin');
  return { stack, store, admin };
};

/** Two coordinators (a leads) on one stack with tokens on, and a token for each role ("region": eu-west). */
export const startRestStack = async (env: Record<string, string> = {}): Promise<RestStack> => {
  // One store, shared by both in-process coordinators (as one PostgreSQL would be).
  const { stack, store, admin } = await startAuthStack(env);
  const token = async (name: string, grants: Parameters<IdentityStore['createPrincipal']>[0]['grants']): Promise<Issued> => {
    must(await store.createPrincipal({ name, kind: 'person', grants }));
    return must(await store.issueToken(name, { name: 'test', expiresAt: null }));
  };
  const tokens: RoleTokens = {
    admin: admin.token,
    operator: (await token('olga', [{ role: 'operator', region: null }])).token,
    auditor: (await token('audrey', [{ role: 'auditor', region: null }])).token,
    region: (await token('eu-west-agent', [{ role: 'region', region: 'eu-west' }])).token,
    other: (await token('us-east-agent', [{ role: 'region', region: 'us-east' }])).token,
  };
  const a = await startInProcess(stack, 'rest-a', {}, undefined, { identity: store });
  const b = await startInProcess(stack, 'rest-b', {}, undefined, { identity: store });
  return {
    stack, store, a, b, tokens,
    stop: async () => {
      await b.stop();
      await a.stop();
      await store.close();
      await stack.stop();
    },
  };
};

export const restBase = (c: Coordinator): string => `http://127.0.0.1:${c.rest.port}`;
