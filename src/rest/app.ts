// The fastify instance behind the REST API: JSON only (depth-checked before parsing), strict request
// validation, problem documents for every refusal (fastify's own included), a request id on every
// response and log line, the guard on every route, metrics by route template, CORS only when
// configured, and the OpenAPI 3.1 document generated from the routes' schemas.
import { randomUUID } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import formats from 'ajv-formats';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import type { ApiDeps } from '../api/context.js';
import { looksUnreachable, unavailable } from '../api/context.js';
import { apiError } from '../api/errors.js';
import { admit, type Gate } from '../api/guard.js';
import type { Logger } from '../observability/log.js';
import { httpProblem, problemOf, sendProblem, type HttpOnly } from './problem.js';
import { register, setCaller, type AnyRoute } from './route.js';
import { SHARED } from './schemas.js';
import { checkJson } from './json.js';

export const API_PREFIX = '/api/v1';
export const API_VERSION = '1.0.0';

export type AppSettings = {
  readonly bodyLimitBytes: number;
  readonly corsOrigins: readonly string[];
  readonly gate: Gate;
  readonly log: Logger;
  /** The stream's last sequence (a `min_sequence` past it is refused, not waited for). */
  readonly streamEnd: () => Promise<number>;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Query strings and path parameters arrive as strings: coerced to the schema's types. Bodies are
// JSON and must already have the right types ("5" is not 5). Unknown body fields are refused.
const ajvFor = (coerce: boolean): Ajv => {
  const ajv = new Ajv({ coerceTypes: coerce ? 'array' : false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  // ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
  (formats as unknown as { default: (a: Ajv, only: string[]) => Ajv }).default(ajv, ['date-time', 'uuid']);
  for (const s of SHARED) ajv.addSchema(s);
  return ajv;
};

const dotted = (pointer: string): string => pointer.replace(/^\//, '').replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~');

const PART = { body: '', querystring: ' (query)', params: ' (path)', headers: ' (header)' } as const;

/** The first validation error as `field: reason`, the way every other message of the API reads. */
export const describeValidation = (e: ErrorObject, part: string): { field: string; detail: string } => {
  const at = dotted(e.instancePath);
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const field = params.missingProperty !== undefined ? [at, params.missingProperty].filter(Boolean).join('.')
    : params.additionalProperty !== undefined ? [at, params.additionalProperty].filter(Boolean).join('.')
      : at || '(request)';
  const reason = params.missingProperty !== undefined ? 'is required'
    : params.additionalProperty !== undefined ? 'is not a field of this request'
      : e.message ?? 'is invalid';
  const where = PART[part as keyof typeof PART] ?? '';
  return { field, detail: `${field}${where}: ${reason}` };
};

const httpOnly = (req: FastifyRequest, reply: FastifyReply, p: HttpOnly) => sendProblem(reply, httpProblem(p, req.id));

export const buildApp = async (deps: ApiDeps, settings: AppSettings, routes: readonly AnyRoute[]): Promise<FastifyInstance> => {
  const log: FastifyBaseLogger = settings.log.child({ component: 'rest' }, {
    // Never the Authorization header, a token or a body: method, path and route template only.
    serializers: {
      req: (r: FastifyRequest) => ({ method: r.method, url: r.url.split('?')[0], route: r.routeOptions.url ?? 'unmatched' }),
      res: (r: FastifyReply) => ({ statusCode: r.statusCode }),
    },
  });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: settings.bodyLimitBytes,
    routerOptions: { maxParamLength: 4096 },
    return503OnClosing: true,
    frameworkErrors: (error, req, reply) => {
      void httpOnly(req, reply, { status: 400, detail: `(request): ${error.message}` });
    },
  });
  const bodies = ajvFor(false);
  const others = ajvFor(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodies : others).compile(schema));
  app.setSchemaErrorFormatter((errors, part) => {
    const first = errors[0];
    const d = first === undefined ? { field: '(request)', detail: `(request): invalid ${part}` } : describeValidation(first, part);
    return Object.assign(new Error(d.detail), { field: d.field });
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const checked = checkJson(body as string);
    if (E.isLeft(checked)) done(Object.assign(new Error(checked.left), { statusCode: 400, code: 'JZSE_BAD_JSON' }), undefined);
    else done(null, checked.right);
  });

  for (const s of SHARED) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'JzSE Global Coordinator: admin REST API',
        version: API_VERSION,
        description: 'Everything an operator does, over HTTP. Errors are RFC 9457 problem documents. See docs/rest.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'jzse_<id>_<secret> (docs/security.md)' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs`, staticCSP: true });
  if (settings.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...settings.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['etag', 'link', 'location', 'x-request-id', 'www-authenticate'],
      maxAge: 600,
    });
  }

  // A route under the API without a declared access must not ship open (the docs' own are public).
  app.addHook('onRoute', (r) => {
    const publicDoc = r.url.startsWith(`${API_PREFIX}/docs`) || r.url === `${API_PREFIX}/openapi.json` || r.method === 'OPTIONS' || r.method === 'HEAD';
    if (r.url.startsWith(API_PREFIX) && !publicDoc && r.config?.access === undefined) throw new Error(`rest: no access declared for ${String(r.method)} ${r.url}`);
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const access = req.routeOptions.config.access;
    if (access === undefined || access === 'open') return;
    const header = req.headers.authorization;
    const admitted = await admit(settings.gate, typeof header === 'string' ? header : undefined, access);
    if (E.isLeft(admitted)) {
      req.log.info({ code: admitted.left.code, reason: admitted.left.message }, 'request refused');
      return sendProblem(reply, problemOf(admitted.left, req.id));
    }
    if (admitted.right !== undefined) setCaller(req, admitted.right);
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics?.httpSeconds.observe({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setNotFoundHandler((req, reply) => httpOnly(req, reply, { status: 404, detail: `(request): no route ${req.method} ${req.url.split('?')[0]}; see ${API_PREFIX}/openapi.json` }));

  app.setErrorHandler((error: FastifyError & { field?: string }, req, reply) => {
    if (error.validation !== undefined) return httpOnly(req, reply, { status: 400, detail: error.message, ...(error.field === undefined ? {} : { field: error.field }) });
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return httpOnly(req, reply, { status: 413, detail: `(request): the body is larger than ${settings.bodyLimitBytes} bytes (rest.body_limit_bytes)` });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return httpOnly(req, reply, { status: 415, detail: `Content-Type: expected application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}` });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return httpOnly(req, reply, { status: 400, detail: '(request): the body is empty; send a JSON object' });
      default:
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return httpOnly(req, reply, { status: 400, detail: error.message.startsWith('(request)') ? error.message : `(request): ${error.message}` });
    }
    req.log.error({ err: error }, 'request failed');
    const mapped = looksUnreachable(error) ? unavailable('storage unreachable', error) : apiError('INTERNAL', 'internal error; see the coordinator log');
    return sendProblem(reply, problemOf(mapped, req.id));
  });

  for (const r of routes) register(app, deps, settings.streamEnd, r);
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
};
