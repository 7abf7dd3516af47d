// The gRPC server every instance runs: the four services, standard health checking (serving
// follows NATS and etcd reachability) and server reflection.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Etcd3 } from 'etcd3';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import { UnparsableRequest, type ApiDeps } from './context.js';
import { Encoded } from './wire.js';
import { instrumented } from './instrument.js';
import { PACKAGE, SERVICES, packageDefinition, serviceDefinition } from './proto.js';
import { auditService } from './services/audit.js';
import { conflictService } from './services/conflicts.js';
import { metadataService } from './services/metadata.js';
import { regionService } from './services/regions.js';
import { syncService } from './services/sync.js';
import { identityService, type IdentityDeps } from './services/identity.js';
import { guarded, type Gate } from './guard.js';
import { readFileSync } from 'node:fs';

export type ApiServer = { readonly port: number; readonly stop: () => Promise<void> };

/** Who may call: the gate (null: authentication off) and the identity store behind IdentityService. */
export type Access = { readonly gate: Gate; readonly identity?: IdentityDeps };

/** TLS when a certificate is configured; client certificates required when a client CA is. */
export const serverCredentials = (config: Config['grpc']): grpc.ServerCredentials => {
  if (config.tls_cert === null || config.tls_key === null) {
    if (config.tls_cert !== null || config.tls_key !== null || config.tls_client_ca !== null) {
      throw new Error('grpc.tls_cert and grpc.tls_key go together (and grpc.tls_client_ca needs both)');
    }
    return grpc.ServerCredentials.createInsecure();
  }
  const ca = config.tls_client_ca === null ? null : readFileSync(config.tls_client_ca);
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(config.tls_cert), private_key: readFileSync(config.tls_key) }], ca !== null);
};

const HEALTH_INTERVAL_MS = 2000;

/**
 * grpc-js answers bytes its deserializer refuses with INTERNAL "Error deserializing request"; a
 * client's garbage is not our internal error, so the handler gets a marker and answers
 * INVALID_ARGUMENT saying what was wrong. Replies a handler encoded itself (wire.ts) go out as they are.
 */
const tolerant = (definition: grpc.ServiceDefinition): grpc.ServiceDefinition =>
  Object.fromEntries(Object.entries(definition).map(([name, method]) => {
    const typeName = (method as { requestType?: { type?: { name?: unknown } } }).requestType?.type?.name;
    const type = typeof typeName === 'string' ? `${PACKAGE}.${typeName}` : `request of ${method.path}`;
    return [name, {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new UnparsableRequest(type, error instanceof Error ? error.message : String(error));
        }
      },
      responseSerialize: (value: unknown): Buffer => (value instanceof Encoded ? value.bytes : method.responseSerialize(value)),
    }];
  }));

export const startApiServer = async (
  config: Config['grpc'],
  deps: ApiDeps,
  probes: { nc: NatsConnection; etcd: Etcd3 },
  log: Logger,
  access: Access,
): Promise<ApiServer> => {
  const credentials = serverCredentials(config);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.max_message_bytes,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  const services: Record<(typeof SERVICES)[number], grpc.UntypedServiceImplementation> = {
    MetadataService: metadataService(deps),
    SyncService: syncService(deps),
    ConflictService: conflictService(deps),
    RegionService: regionService(deps),
    AuditService: auditService(deps),
    IdentityService: identityService(deps, access.identity),
  };
  for (const name of SERVICES) {
    server.addService(tolerant(serviceDefinition(name)), instrumented(name, guarded(name, services[name], access.gate, log), deps.metrics));
  }
  if (access.gate === null) log.warn('authentication is OFF (auth.enabled: false): every caller of the gRPC API may do everything');

  const names = ['', ...SERVICES.map((s) => `${PACKAGE}.${s}`)];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  health.addToServer(server);
  if (config.reflection) new ReflectionService(packageDefinition).addToServer(server);

  let serving: boolean | undefined;
  const probe = async (): Promise<void> => {
    const natsUp = !probes.nc.isClosed() && (await probes.nc.flush().then(() => true, () => false));
    const etcdUp = await probes.etcd.get('jzse-health-probe').exec().then(() => true, () => false);
    const now = natsUp && etcdUp;
    if (now !== serving) {
      serving = now;
      for (const n of names) health.setStatus(n, now ? 'SERVING' : 'NOT_SERVING');
      log.info({ nats: natsUp, etcd: etcdUp }, now ? 'health: serving' : 'health: not serving');
    }
  };
  await probe();
  const timer = setInterval(() => void probe(), HEALTH_INTERVAL_MS);
  timer.unref();

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.host}:${config.port}`, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  log.info({ port, tls: config.tls_cert !== null, clientCertificates: config.tls_client_ca !== null }, 'gRPC API listening');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const n of names) health.setStatus(n, 'NOT_SERVING');
        server.tryShutdown(() => resolve());
      }),
  };
};
