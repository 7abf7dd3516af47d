// Errors over HTTP: RFC 9457 problem documents, from the same ApiError values gRPC answers, through
// the one code → status table (src/api/errors.ts HTTP_STATUS_OF). `detail` names the field first,
// as every message of the API does; `field` and `code` repeat it for programs.
import type { FastifyReply } from 'fastify';
import { HTTP_STATUS_OF, apiError, type ApiError, type ApiErrorCode } from '../api/errors.js';

export const PROBLEM_TYPE = 'application/problem+json';

export type ProblemDocument = {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: string;
  readonly field?: string;
  readonly current?: unknown;
};

const TITLES: Readonly<Record<ApiErrorCode, string>> = {
  INVALID_ARGUMENT: 'Invalid request',
  UNAUTHENTICATED: 'Not authenticated',
  PERMISSION_DENIED: 'Permission denied',
  NOT_FOUND: 'Not found',
  ALREADY_EXISTS: 'Already exists',
  ABORTED: 'Conflict with the stored version',
  FAILED_PRECONDITION: 'Not allowed in the current state',
  INTERNAL: 'Internal error',
  UNAVAILABLE: 'Unavailable',
  DEADLINE_EXCEEDED: 'Deadline exceeded',
};

/** Raised by the REST layer when `If-Match` does not match: FAILED_PRECONDITION answered as 412. */
const IF_MATCH = 'if-match';

export const ifMatchFailed = (what: string, etag: string | null, current?: unknown): ApiError =>
  apiError('FAILED_PRECONDITION', `If-Match: ${what} is ${etag === null ? 'absent' : `at ${etag}`}, not the version given; read it again and retry`, {
    [IF_MATCH]: etag, ...(current === undefined ? {} : { current }),
  });

/** Statuses the REST layer adds for what only HTTP has (body size, media type, unknown route). */
export type HttpOnly = { readonly status: 404 | 405 | 413 | 415 | 400; readonly detail: string; readonly field?: string };

const FIELD = /^([A-Za-z0-9_.[\]/-]+|\(request\)|If-Match|Authorization): /;

export const fieldOf = (detail: string): string | undefined => {
  const m = FIELD.exec(detail);
  return m?.[1] === undefined || m[1] === '(request)' ? undefined : m[1];
};

const slug = (code: string): string => `urn:jzse:problem:${code.toLowerCase().replace(/_/g, '-')}`;

export const problemOf = (e: ApiError, instance: string): ProblemDocument => {
  const preconditioned = e.details !== undefined && IF_MATCH in e.details;
  const status = preconditioned ? 412 : HTTP_STATUS_OF[e.code];
  const field = fieldOf(e.message);
  const current = e.details?.['current'] ?? e.details?.['current-version'];
  return {
    type: slug(preconditioned ? 'precondition_failed' : e.code),
    title: preconditioned ? 'Precondition failed' : TITLES[e.code],
    status,
    detail: e.message,
    instance,
    code: e.code,
    ...(field === undefined ? {} : { field }),
    ...(current === undefined ? {} : { current }),
  };
};

/** Title, shared code and problem type of what only HTTP refuses. */
const HTTP_ONLY: Readonly<Record<HttpOnly['status'], readonly [string, ApiErrorCode, string]>> = {
  400: ['Invalid request', 'INVALID_ARGUMENT', 'invalid_argument'],
  404: ['Not found', 'NOT_FOUND', 'not_found'],
  405: ['Method not allowed', 'INVALID_ARGUMENT', 'method_not_allowed'],
  413: ['Request body too large', 'INVALID_ARGUMENT', 'body_too_large'],
  415: ['Unsupported media type', 'INVALID_ARGUMENT', 'unsupported_media_type'],
};

export const httpProblem = (p: HttpOnly, instance: string): ProblemDocument => {
  const [title, code, type] = HTTP_ONLY[p.status];
  const field = p.field ?? fieldOf(p.detail);
  return { type: slug(type), title, status: p.status, detail: p.detail, instance, code, ...(field === undefined ? {} : { field }) };
};

export const sendProblem = (reply: FastifyReply, problem: ProblemDocument): FastifyReply => {
  if (problem.status === 401) reply.header('www-authenticate', `Bearer realm="jzse"${problem.detail.startsWith('no token') ? '' : ', error="invalid_token"'}`);
  return reply.code(problem.status).type(PROBLEM_TYPE).send(problem);
};
