// Real gRPC clients for tests: the coordinator's five services, health and reflection.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { serviceClient, type ServiceName } from '../../src/api/proto.js';
import { withTimeout } from '../../src/util/waitFor.js';

export type Reply<T = Record<string, unknown>> =
  | { ok: true; value: T; error?: undefined }
  | { ok: false; error: grpc.ServiceError; value?: undefined };

export type Clients = Record<ServiceName, grpc.Client> & { close: () => void; address: string };

/** Sends `authorization: Bearer <token>` on every call of a client. */
export const bearer = (token: string): grpc.Interceptor => (options, next) =>
  new grpc.InterceptingCall(next(options), {
    start: (metadata, listener, proceed) => {
      metadata.set('authorization', `Bearer ${token}`);
      proceed(metadata, listener);
    },
  });

export const connectClients = (port: number, token?: string): Clients => {
  const address = `127.0.0.1:${port}`;
  const options = token === undefined ? {} : { interceptors: [bearer(token)] };
  const make = (name: ServiceName) => new (serviceClient(name))(address, grpc.credentials.createInsecure(), options);
  const clients = {
    IdentityService: make('IdentityService'),
    MetadataService: make('MetadataService'),
    SyncService: make('SyncService'),
    ConflictService: make('ConflictService'),
    RegionService: make('RegionService'),
    AuditService: make('AuditService'),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
};

/** One unary call; never throws, so tests assert on the status. */
export const call = <T = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: unknown,
  deadlineMs = 15_000,
): Promise<Reply<T>> =>
  new Promise((resolve) => {
    const fn = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, value) =>
      resolve(error ? { ok: false, error } : { ok: true, value }),
    );
  });

const require = createRequire(import.meta.url);
const loadService = (file: string, includeDir: string, path: string[]): grpc.ServiceClientConstructor => {
  const def = protoLoader.loadSync(file, { keepCase: true, defaults: true, enums: String, includeDirs: [includeDir] });
  let node: unknown = grpc.loadPackageDefinition(def);
  for (const p of path) node = (node as Record<string, unknown>)[p];
  return node as grpc.ServiceClientConstructor;
};

export const healthClient = (port: number): grpc.Client => {
  const root = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto');
  const Ctor = loadService('health/v1/health.proto', root, ['grpc', 'health', 'v1', 'Health']);
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
};

/** Lists services through server reflection (grpc.reflection.v1), as grpcurl would. */
export const listServicesByReflection = (port: number): Promise<string[]> => {
  const root = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const Ctor = loadService('grpc/reflection/v1/reflection.proto', root, ['grpc', 'reflection', 'v1', 'ServerReflection']);
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const listed = new Promise<string[]>((resolve, reject) => {
    type ListReply = { list_services_response?: { service: Array<{ name: string }> } };
    const stream = (client as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<unknown, ListReply> }).ServerReflectionInfo();
    stream.on('data', (reply: ListReply) => {
      resolve(reply.list_services_response?.service.map((s) => s.name) ?? []);
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.on('end', () => reject(new Error('the reflection stream ended without listing the services')));
    stream.write({ list_services: '*' });
  });
  return withTimeout(listed, 15_000, `server reflection on port ${port} to list the services`).finally(() => client.close());
};

/** Binary trailing metadata `jzse-<name>-bin` parsed as JSON. */
export const detail = (error: grpc.ServiceError, name: string): unknown => {
  const [value] = error.metadata.get(`jzse-${name}-bin`);
  return value === undefined ? undefined : (JSON.parse(Buffer.from(value).toString()) as unknown);
};
