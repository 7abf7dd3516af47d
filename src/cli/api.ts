// The CLI's door to a running coordinator's gRPC API, for what only the coordinator can do
// (principals and tokens): the address from the configuration, a bearer token from the flag, the
// environment or the token file the first start wrote.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { Config } from '../config/schema.js';
import type { ServiceName } from '../api/proto.js';
import { AuditError, failed, notFound, refused, usage } from '../audit/errors.js';

export type ApiTarget = { readonly address: string; readonly token: string | undefined; readonly tokenFrom: string };

/** Where the first start writes the first admin's token (auth.admin_token_file, or under data_dir). */
export const adminTokenFile = (config: Config): string => resolve(config.auth.admin_token_file ?? join(config.coordinator.data_dir, 'admin.token'));

export const apiTarget = (config: Config, env: NodeJS.ProcessEnv, o: { grpc?: string; token?: string }): ApiTarget => {
  const address = o.grpc ?? `${config.grpc.host}:${config.grpc.port}`;
  if (o.token !== undefined) return { address, token: o.token, tokenFrom: '--token' };
  const fromEnv = env['JZSE_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return { address, token: fromEnv, tokenFrom: 'JZSE_TOKEN' };
  const file = adminTokenFile(config);
  try {
    return { address, token: readFileSync(file, 'utf8').trim(), tokenFrom: file };
  } catch {
    return { address, token: undefined, tokenFrom: `none (no --token, no JZSE_TOKEN, no ${file})` };
  }
};

/** By gRPC status number (grpc-js is loaded only by the commands that call the API). */
const STATUS_EXIT: Partial<Record<number, (m: string) => AuditError>> = {
  3: usage, // INVALID_ARGUMENT
  5: notFound, // NOT_FOUND
  6: refused, // ALREADY_EXISTS
  9: refused, // FAILED_PRECONDITION
  7: refused, // PERMISSION_DENIED
  16: refused, // UNAUTHENTICATED
};
const UNAUTHENTICATED = 16;

/** One unary call; a refusal becomes the matching exit code with the coordinator's own message. */
export const callApi = async <T>(target: ApiTarget, service: ServiceName, method: string, request: unknown, timeoutMs = 15_000): Promise<T> => {
  const [grpc, { serviceClient }] = await Promise.all([import('@grpc/grpc-js'), import('../api/proto.js')]);
  const client = new (serviceClient(service))(target.address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (target.token !== undefined) metadata.set('authorization', `Bearer ${target.token}`);
  try {
    return await new Promise<T>((ok, ko) => {
      const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method];
      if (fn === undefined) throw new Error(`no method ${service}/${method}`);
      fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, value) => (error ? ko(error) : ok(value)));
    });
  } catch (error) {
    const e = error as grpc.ServiceError;
    const make = STATUS_EXIT[e.code];
    const hint = Number(e.code) === UNAUTHENTICATED ? ` (token from ${target.tokenFrom})` : '';
    if (make !== undefined) throw make(`${service}/${method}: ${e.details}${hint}`);
    throw failed(`the coordinator at ${target.address}: ${e.details ?? e.message}`);
  } finally {
    client.close();
  }
};
