// The API's protobuf definitions, loaded once; snake_case kept, 64-bit integers as strings
// (validated at the boundary), enums as names.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
export const PROTO_FILE = 'jzse/coordinator/v1/coordinator.proto';
export const PACKAGE = 'jzse.coordinator.v1';
export const SERVICES = ['MetadataService', 'SyncService', 'ConflictService', 'RegionService', 'AuditService', 'IdentityService'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export const packageDefinition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);

type ServiceClientCtor = grpc.ServiceClientConstructor;
const root = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  jzse: { coordinator: { v1: Record<ServiceName, ServiceClientCtor> } };
};

export const serviceClient = (name: ServiceName): ServiceClientCtor => root.jzse.coordinator.v1[name];
export const serviceDefinition = (name: ServiceName): grpc.ServiceDefinition => serviceClient(name).service;
