// Subjects of the seed design. Inputs are captured by the event stream; outputs
// (sync requests, conflict notices) are what the coordinator publishes to regions.
import type { CoordinatorEvent, EventType } from './events.js';

export const SUBJECT_PREFIX = 'jzse';
export const changesSubject = (region: string): string => `${SUBJECT_PREFIX}.changes.${region}`;
export const SYNC_ACKS = `${SUBJECT_PREFIX}.sync.acks`;
/** A region's demand for on-demand copies. */
export const SYNC_DEMANDS = `${SUBJECT_PREFIX}.sync.demands`;
/** The leader's record of sync requests it sent (input log; the requests go on SYNC_REQUESTS). */
export const SYNC_DISPATCHED = `${SUBJECT_PREFIX}.sync.dispatched`;
export const REGIONS_STATUS = `${SUBJECT_PREFIX}.regions.status`;
export const ADMIN_CONFLICTS = `${SUBJECT_PREFIX}.admin.conflicts`;
export const ADMIN_POLICIES = `${SUBJECT_PREFIX}.admin.policies`;
export const SYNC_REQUESTS = `${SUBJECT_PREFIX}.sync.requests`;
/** Where a region's sync requests go: a region subscribes to just its own. */
export const syncRequestsSubject = (region: string): string => `${SYNC_REQUESTS}.${region}`;
export const CONFLICTS = `${SUBJECT_PREFIX}.conflicts`;

/** The subjects the event stream captures. */
export const INPUT_SUBJECTS = [
  `${SUBJECT_PREFIX}.changes.*`,
  SYNC_ACKS,
  SYNC_DISPATCHED,
  SYNC_DEMANDS,
  REGIONS_STATUS,
  `${SUBJECT_PREFIX}.admin.>`,
] as const;

const fixedSubjects: Record<Exclude<EventType, 'file.registered' | 'file.updated' | 'file.deleted'>, string> = {
  'sync.acked': SYNC_ACKS,
  'sync.requested': SYNC_DISPATCHED,
  'sync.demanded': SYNC_DEMANDS,
  'region.registered': REGIONS_STATUS,
  'region.deregistered': REGIONS_STATUS,
  'region.heartbeat': REGIONS_STATUS,
  'region.health': REGIONS_STATUS,
  'conflict.resolved': ADMIN_CONFLICTS,
  'policy.set': ADMIN_POLICIES,
};

/** The one subject an event must be published on. */
export const subjectFor = (event: CoordinatorEvent): string => {
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return changesSubject(event.region);
    default:
      return fixedSubjects[event.type];
  }
};
