// The admin REST API every coordinator instance serves on its own port (rest.port; 0 = any free
// one), beside gRPC and with the same judge, guard, tokens and view readers.
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api/context.js';
import type { Gate } from '../api/guard.js';
import type { IdentityDeps } from '../auth/actions.js';
import { AuditContext, type StreamAccess } from '../audit/context.js';
import type { Config } from '../config/schema.js';
import { lastSequence } from '../nats/read.js';
import type { Logger } from '../observability/log.js';
import type { IdentityStore } from '../store/identity.js';
import { withTimeout } from '../util/waitFor.js';
import { buildApp } from './app.js';
import type { AnyRoute } from './route.js';
import { conflictRoutes } from './routes/conflicts.js';
import { fileRoutes } from './routes/files.js';
import { identityRoutes } from './routes/identity.js';
import { policyRoutes } from './routes/policies.js';
import { regionRoutes } from './routes/regions.js';
import { statusRoutes, type Readiness } from './routes/status.js';
import { auditRoutes } from './routes/audit.js';
import { Jobs } from './jobs.js';

export type RestServer = { readonly port: number; readonly app: FastifyInstance; readonly stop: () => Promise<void> };

export type RestDeps = {
  readonly api: ApiDeps;
  readonly gate: Gate;
  readonly identity?: IdentityDeps;
  readonly streams: StreamAccess;
  readonly etcd: Etcd3;
  readonly config: Config;
};

const PROBE_MS = 2000;

const probe = (check: () => Promise<unknown>): Promise<boolean> =>
  withTimeout(check(), PROBE_MS, 'a readiness probe').then(() => true, () => false);

const readiness = (d: RestDeps, store: IdentityStore | undefined) => async (): Promise<Readiness> => {
  const [nats, etcd, identity, end] = await Promise.all([
    probe(() => d.streams.nc.flush()),
    probe(() => d.etcd.get('jzse-health-probe').exec()),
    store === undefined ? Promise.resolve(true) : probe(async () => { if (!(await store.ping())) throw new Error('store did not answer'); }),
    withTimeout(lastSequence(d.streams.jsm, d.streams.stream), PROBE_MS, 'the stream end').catch(() => undefined),
  ]);
  return { nats, etcd, identity_store: identity, view_lag: end === undefined ? null : Math.max(0, end - d.api.reader.latest) };
};

/** Every route of the API, in the order the OpenAPI document lists them. */
export const allRoutes = (d: RestDeps, log: Logger): readonly AnyRoute[] => {
  const audit = AuditContext.over(d.config, d.streams, d.etcd);
  const jobs = new Jobs(d.config.coordinator.id, log);
  return [
    ...statusRoutes(d.api, audit, readiness(d, d.identity?.store)),
    ...regionRoutes(d.api),
    ...fileRoutes(d.api, d.streams),
    ...conflictRoutes(d.api),
    ...policyRoutes(d.api),
    ...identityRoutes(d.identity),
    ...auditRoutes(audit, jobs),
  ];
};

export const buildRestApp = (d: RestDeps, log: Logger): Promise<FastifyInstance> =>
  buildApp(d.api, {
    bodyLimitBytes: d.config.rest.body_limit_bytes, corsOrigins: d.config.rest.cors_origins, gate: d.gate, log,
    streamEnd: () => lastSequence(d.streams.jsm, d.streams.stream),
  }, allRoutes(d, log));

export const startRestServer = async (d: RestDeps, log: Logger): Promise<RestServer> => {
  const app = await buildRestApp(d, log);
  await app.listen({ host: d.config.rest.host, port: d.config.rest.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : d.config.rest.port;
  log.info({ port, host: d.config.rest.host, cors: d.config.rest.cors_origins }, 'REST API listening');
  if (d.gate === null) log.warn('authentication is OFF (auth.enabled: false): every caller of the REST API may do everything');
  return { port, app, stop: () => app.close() };
};
