// One way to declare a REST route: its permission (checked by the guard before anything is read),
// its request and response schemas (validated and serialized by fastify, published as OpenAPI), and
// a handler that returns a value or an ApiError, never throws one. Errors become problem documents
// in one place (problemOf), whichever route they come from.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import type { ApiDeps, Call, Result } from '../api/context.js';
import { readAt, readPoint } from '../api/context.js';
import type { Permission } from '../auth/permissions.js';
import type { Caller } from '../auth/model.js';
import { apiError, type ApiError } from '../api/errors.js';
import type { ViewSnapshot } from '../etcd/viewReader.js';
import type { Snapshot } from '../etcd/snapshot.js';
import { PROBLEM_TYPE, problemOf, sendProblem } from './problem.js';

export type Access = Permission | 'authenticated' | 'open';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route under /api/v1 without one does not start (server.ts). */
    access?: Access;
  }
}

type Parts = { readonly params?: TSchema; readonly querystring?: TSchema; readonly body?: TSchema; readonly headers?: TSchema };
type StaticOf<T> = T extends TSchema ? Static<T> : undefined;
export type Input<S extends Parts> = {
  readonly params: StaticOf<S['params']>;
  readonly query: StaticOf<S['querystring']>;
  readonly body: StaticOf<S['body']>;
  readonly headers: StaticOf<S['headers']>;
  /** The request's URL path and query, for `next` links. */
  readonly url: string;
};

export type RouteSpec<S extends Parts> = {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly access: Access;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly request: S;
  /** The success statuses and their bodies; the first is the one answered. */
  readonly response: Readonly<Record<number, TSchema | { readonly description: string; readonly content: Readonly<Record<string, { readonly schema: TSchema }>> }>>;
  readonly handler: (input: Input<S>, call: Call, reply: FastifyReply) => Result<unknown>;
};

/** Captures the schema types so the handler's input is typed from them. */
export type AnyRoute = RouteSpec<Parts>;
export const defineRoute = <S extends Parts>(spec: RouteSpec<S>): AnyRoute => spec;

const callers = new WeakMap<FastifyRequest, Caller>();
export const setCaller = (req: FastifyRequest, caller: Caller): void => void callers.set(req, caller);

const problems = {
  '4xx': { description: 'a problem document naming the field and the reason', content: { [PROBLEM_TYPE]: { schema: { $ref: 'Problem#' } } } },
  '5xx': { description: 'a problem document', content: { [PROBLEM_TYPE]: { schema: { $ref: 'Problem#' } } } },
};

/**
 * A `min_sequence` past the stream's end names a write that never happened: refused at once rather
 * than waited on until the deadline (504), which is for a view that lags.
 */
const beyondStream = async (deps: ApiDeps, streamEnd: () => Promise<number>, min: number | undefined): Promise<ApiError | undefined> => {
  if (min === undefined || min <= deps.reader.latest) return undefined;
  const end = await streamEnd();
  return min > end ? apiError('INVALID_ARGUMENT', `min_sequence: ${min} is beyond the stream's end (${end}); pass the sequence a write returned`) : undefined;
};

export const register = (app: FastifyInstance, deps: ApiDeps, streamEnd: () => Promise<number>, spec: AnyRoute): void => {
  const [status] = Object.keys(spec.response).map(Number);
  app.route({
    method: spec.method,
    url: spec.url,
    config: { access: spec.access },
    schema: {
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: [...spec.tags],
      ...(spec.access === 'open' ? { security: [] } : {}),
      // Who may call it, in the document itself (docs/rest.md's routes table is checked against it).
      'x-jzse-permission': spec.access,
      // No query parameters declared: none accepted (a typo is refused, not silently ignored).
      querystring: Type.Object({}, { additionalProperties: false }),
      ...spec.request,
      response: { ...spec.response, ...problems },
    },
    handler: async (req, reply) => {
      const caller = callers.get(req);
      const call: Call = { deadline: Date.now() + deps.waitTimeoutMs, ...(caller === undefined ? {} : { caller }) };
      const input = { params: req.params, query: req.query, body: req.body, headers: req.headers, url: req.url } as Input<Parts>;
      const beyond = await beyondStream(deps, streamEnd, (input.query as { min_sequence?: number } | undefined)?.min_sequence);
      if (beyond !== undefined) return sendProblem(reply, problemOf(beyond, req.id));
      const result = await spec.handler(input, call, reply);
      if (E.isLeft(result)) return sendProblem(reply, problemOf(result.left, req.id));
      if (reply.sent) return reply;
      return reply.code(status ?? 200).send(result.right);
    },
  });
};

/** A read at `min_sequence` (read-your-writes), from etcd at one checkpoint. */
export const viewAt = (deps: ApiDeps, call: Call, min: number | undefined): Result<ViewSnapshot> => readAt(deps, call, { min_sequence: min ?? 0 });
/** A point read at `min_sequence`: the committed view in memory when fresh enough, else etcd. */
export const pointAt = (deps: ApiDeps, call: Call, min: number | undefined): Result<Snapshot> => readPoint(deps, call, { min_sequence: min ?? 0 });

/** Cursors are the view's page tokens, base64url-encoded so that they are opaque and URL-safe. */
export const cursorIn = (cursor: string | undefined): string => (cursor === undefined ? '' : Buffer.from(cursor, 'base64url').toString());

/** The `next` link: the same URL with the cursor of the next page (null on the last one). */
export const nextLink = (url: string, token: string): string | null => {
  if (token === '') return null;
  const u = new URL(url, 'http://x');
  u.searchParams.set('cursor', Buffer.from(token).toString('base64url'));
  return `${u.pathname}${u.search}`;
};

/** A page answer, with the `Link: <…>; rel="next"` header HTTP tooling follows. */
export const paged = <T>(reply: FastifyReply, url: string, items: T[], token: string, seq: number, extra: Record<string, unknown> = {}) => {
  const next = nextLink(url, token);
  if (next !== null) reply.header('link', `<${next}>; rel="next"`);
  return E.right({ items, next, view_sequence: seq, ...extra });
};

export const notFound = (what: string): ApiError => ({ code: 'NOT_FOUND', message: what });
