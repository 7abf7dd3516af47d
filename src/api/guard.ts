// Authentication and the method-level role check for every gRPC call, in one wrapper: a call
// reaches its handler only with a verified caller allowed to use the method at all. Handlers then
// check the region a request names (submit() for events, reads with a region id).
import * as grpc from '@grpc/grpc-js';
import * as E from 'fp-ts/lib/Either.js';
import { bearerToken, StoreUnreachable, UNVERIFIED_REASON, type Authenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/model.js';
import { authorize, type Permission } from '../auth/permissions.js';
import type { Logger } from '../observability/log.js';
import { apiError, toServiceError, type ApiError } from './errors.js';

/** Every method of every service and what it needs; `authenticated`: any verified caller. */
export const METHOD_PERMISSIONS: Readonly<Record<string, Readonly<Record<string, Permission | 'authenticated'>>>> = {
  MetadataService: { Get: 'files.read', Update: 'changes.write', Register: 'changes.write', GetLocations: 'files.read', BatchGet: 'files.read' },
  SyncService: { HandleChange: 'changes.write', BroadcastChange: 'changes.write', GetPendingChanges: 'sync.read', AckSync: 'sync.ack' },
  ConflictService: { Detect: 'files.read', Resolve: 'conflicts.resolve', ListConflicts: 'conflicts.read' },
  RegionService: { Register: 'regions.manage', Deregister: 'regions.manage', Heartbeat: 'regions.heartbeat', GetActiveRegions: 'regions.read', GetRegion: 'regions.read' },
  AuditService: { ListRejections: 'audit.read' },
  IdentityService: {
    WhoAmI: 'authenticated', CreatePrincipal: 'identity.manage', ListPrincipals: 'identity.manage', SetGrants: 'identity.manage',
    DisablePrincipal: 'identity.manage', IssueToken: 'identity.manage', ListTokens: 'identity.manage', RevokeToken: 'identity.manage', RotateToken: 'identity.manage',
  },
};

/** Callers proven by the guard, for the handler of the same call. */
const callers = new WeakMap<object, Caller>();
export const callerOf = (call: object): Caller | undefined => callers.get(call);

/** How a call proves who it is: null when authentication is off (every caller may do everything). */
export type Gate = { readonly authenticator: Authenticator } | null;

export const admit = async (gate: Gate, header: string | undefined, permission: Permission | 'authenticated'): Promise<E.Either<ApiError, Caller | undefined>> => {
  if (gate === null) return E.right(undefined);
  const token = bearerToken(header);
  if (E.isLeft(token)) return E.left(apiError('UNAUTHENTICATED', token.left));
  let verdict;
  try {
    verdict = await gate.authenticator.authenticate(token.right);
  } catch (error) {
    if (error instanceof StoreUnreachable) return E.left(apiError('UNAVAILABLE', `${error.message}; retry`));
    throw error;
  }
  if (E.isLeft(verdict)) return E.left(apiError('UNAUTHENTICATED', UNVERIFIED_REASON[verdict.left]));
  if (permission === 'authenticated') return E.right(verdict.right);
  const allowed = authorize(verdict.right, permission);
  return E.isLeft(allowed) ? E.left(apiError('PERMISSION_DENIED', allowed.left)) : E.right(verdict.right);
};

type Unary = grpc.handleUnaryCall<unknown, unknown>;

export const guarded = (service: string, impl: grpc.UntypedServiceImplementation, gate: Gate, log: Logger): grpc.UntypedServiceImplementation => {
  const table = METHOD_PERMISSIONS[service];
  if (table === undefined) throw new Error(`guard: no permissions listed for ${service}`);
  return Object.fromEntries(Object.entries(impl).map(([method, handler]) => {
    const permission = table[method];
    // A method nobody classified must not ship open.
    if (permission === undefined) throw new Error(`guard: no permission listed for ${service}/${method}`);
    const checked: Unary = (call, callback) => {
      const header = call.metadata.get('authorization')[0];
      admit(gate, typeof header === 'string' ? header : undefined, permission).then((admitted) => {
        if (E.isLeft(admitted)) {
          log.info({ method: `${service}/${method}`, code: admitted.left.code, reason: admitted.left.message }, 'call refused');
          callback(toServiceError(admitted.left));
          return;
        }
        if (admitted.right !== undefined) callers.set(call, admitted.right);
        (handler as Unary)(call, callback);
      }, (error: unknown) => {
        log.error({ err: error, method: `${service}/${method}` }, 'authentication failed');
        callback(toServiceError(apiError('INTERNAL', 'internal error; see the coordinator log')));
      });
    };
    return [method, checked];
  }));
};
