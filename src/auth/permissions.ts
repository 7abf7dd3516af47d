// What each role may do, decided once for every door (gRPC, REST; NATS mirrors it in subject
// permissions). A region grant gives its permissions for its own region only.
import * as E from 'fp-ts/lib/Either.js';
import type { EventType } from '../../streams/events.js';
import type { Caller, Grant, Role } from './model.js';

export const PERMISSIONS = [
  'files.read', 'regions.read', 'conflicts.read', 'policies.read', 'audit.read', 'sync.read',
  'changes.write', 'sync.ack', 'sync.demand', 'regions.heartbeat',
  'regions.manage', 'conflicts.resolve', 'policies.write', 'view.maintain',
  'identity.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that act for one region: a region grant gives them for its region, no other. */
export const REGION_SCOPED: ReadonlySet<Permission> = new Set<Permission>(['changes.write', 'sync.ack', 'sync.demand', 'regions.heartbeat', 'sync.read']);

const READS: readonly Permission[] = ['files.read', 'regions.read', 'conflicts.read', 'policies.read', 'audit.read', 'sync.read'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  operator: [...READS, 'regions.manage', 'conflicts.resolve', 'policies.write', 'view.maintain'],
  auditor: READS,
  // What a region needs to sync: its own writes, and the reads that find versions and peers.
  region: ['files.read', 'regions.read', 'conflicts.read', 'policies.read', 'sync.read', 'changes.write', 'sync.ack', 'sync.demand', 'regions.heartbeat'],
};

/** The permission an event written on a caller's behalf needs. */
export const PERMISSION_OF_EVENT: Readonly<Record<EventType, Permission>> = {
  'file.registered': 'changes.write',
  'file.updated': 'changes.write',
  'file.deleted': 'changes.write',
  'sync.acked': 'sync.ack',
  'sync.demanded': 'sync.demand',
  'region.heartbeat': 'regions.heartbeat',
  'region.registered': 'regions.manage',
  'region.deregistered': 'regions.manage',
  'conflict.resolved': 'conflicts.resolve',
  'policy.set': 'policies.write',
  // Only the leading coordinator writes these; no caller of the API may.
  'sync.requested': 'identity.manage',
  'region.health': 'identity.manage',
};

const grantGives = (g: Grant, p: Permission, region: string | undefined): boolean =>
  ROLE_PERMISSIONS[g.role].includes(p) && (g.role !== 'region' || region === undefined || g.region === region);

/** The roles that hold a permission (for messages: "needs operator or admin"). */
export const rolesWith = (p: Permission): Role[] => (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((r) => ROLE_PERMISSIONS[r].includes(p));

/**
 * Whether the caller may use `permission`; with `region`, for that region. Without it, a region
 * grant counts (the handler checks the region the request names once it is decoded).
 */
export const authorize = (caller: Caller, permission: Permission, region?: string): E.Either<string, true> => {
  if (caller.principal.grants.some((g) => grantGives(g, permission, REGION_SCOPED.has(permission) ? region : undefined))) return E.right(true);
  const own = caller.principal.grants.filter((g) => g.role === 'region' && g.region !== null).map((g) => g.region);
  // A region grant holds every region-scoped permission: refused here, it was for another region.
  if (region !== undefined && REGION_SCOPED.has(permission) && own.length > 0) {
    return E.left(`${caller.principal.name} acts for region ${own.join(', ')} only, not for ${region}`);
  }
  return E.left(`${caller.principal.name} may not ${permission} (needs the ${rolesWith(permission).join(' or ')} role)`);
};
