// Subjects. Inputs are captured by the event stream; outputs (sync requests, conflict notices) are
// what the coordinator publishes to regions. What a region publishes goes on a subject of its own
// (`<family>.<region>`), so a NATS permission can tell regions apart and the subject proves who
// published; shared subjects are the coordinator's and operators' (docs/events.md, "Subjects").
import type { CoordinatorEvent } from './events.js';

export const SUBJECT_PREFIX = 'jzse';
const CHANGES = `${SUBJECT_PREFIX}.changes`;
/** Shared: legacy for acks (regions now use `syncAcksSubject`). */
export const SYNC_ACKS = `${SUBJECT_PREFIX}.sync.acks`;
/** Shared: legacy for demands (regions now use `syncDemandsSubject`). */
export const SYNC_DEMANDS = `${SUBJECT_PREFIX}.sync.demands`;
/** The leader's record of sync requests it sent (input log; the requests go on SYNC_REQUESTS). */
export const SYNC_DISPATCHED = `${SUBJECT_PREFIX}.sync.dispatched`;
/** Shared: registrations (an operator's) and health verdicts (the coordinator's); legacy for heartbeats. */
export const REGIONS_STATUS = `${SUBJECT_PREFIX}.regions.status`;
export const ADMIN_CONFLICTS = `${SUBJECT_PREFIX}.admin.conflicts`;
export const ADMIN_POLICIES = `${SUBJECT_PREFIX}.admin.policies`;
/** Where the coordinator's API appends: `jzse.api.` + the canonical subject without `jzse.`. */
export const API_PREFIX = `${SUBJECT_PREFIX}.api`;
export const SYNC_REQUESTS = `${SUBJECT_PREFIX}.sync.requests`;
/** Where a region's sync requests go: a region subscribes to just its own. */
export const syncRequestsSubject = (region: string): string => `${SYNC_REQUESTS}.${region}`;
export const CONFLICTS = `${SUBJECT_PREFIX}.conflicts`;

/** The families a region publishes on, each `<family>.<region>`. */
export const REGION_FAMILIES = [CHANGES, SYNC_ACKS, SYNC_DEMANDS, REGIONS_STATUS] as const;
export const changesSubject = (region: string): string => `${CHANGES}.${region}`;
export const syncAcksSubject = (region: string): string => `${SYNC_ACKS}.${region}`;
export const syncDemandsSubject = (region: string): string => `${SYNC_DEMANDS}.${region}`;
export const regionStatusSubject = (region: string): string => `${REGIONS_STATUS}.${region}`;

/** The region token of a region's own subject (`jzse.sync.acks.eu-west` → `eu-west`), else undefined. */
export const regionOfSubject = (subject: string): string | undefined => {
  for (const family of REGION_FAMILIES) {
    if (subject.length > family.length + 1 && subject.startsWith(family) && subject[family.length] === '.') {
      const token = subject.slice(family.length + 1);
      return token.includes('.') ? undefined : token;
    }
  }
  return undefined;
};

/** The subjects the event stream captures. */
export const INPUT_SUBJECTS = [
  ...REGION_FAMILIES.map((family) => `${family}.*`),
  SYNC_ACKS,
  SYNC_DEMANDS,
  REGIONS_STATUS,
  SYNC_DISPATCHED,
  `${SUBJECT_PREFIX}.admin.>`,
  `${API_PREFIX}.>`,
] as const;

/** The one subject an event is published on, outside the API. */
export const subjectFor = (event: CoordinatorEvent): string => {
  switch (event.type) {
    case 'file.registered':
    case 'file.updated':
    case 'file.deleted':
      return changesSubject(event.region);
    case 'sync.acked':
      return syncAcksSubject(event.region);
    case 'sync.demanded':
      return syncDemandsSubject(event.region);
    case 'region.heartbeat':
      return regionStatusSubject(event.region);
    // Registering is an operator's act and verdicts are the coordinator's: not on a region's subject.
    case 'region.registered':
    case 'region.deregistered':
    case 'region.health':
      return REGIONS_STATUS;
    case 'sync.requested':
      return SYNC_DISPATCHED;
    case 'conflict.resolved':
      return ADMIN_CONFLICTS;
    case 'policy.set':
      return ADMIN_POLICIES;
  }
};

/** The API's subject for a canonical one: `jzse.sync.acks.eu-west` → `jzse.api.sync.acks.eu-west`. */
export const apiSubject = (canonical: string): string => `${API_PREFIX}${canonical.slice(SUBJECT_PREFIX.length)}`;

/** Where the coordinator's API appends an event. */
export const apiSubjectFor = (event: CoordinatorEvent): string => apiSubject(subjectFor(event));

/** The shared subject regions used before they had their own, still folded where NATS is open. */
export const legacySubjectFor = (event: CoordinatorEvent): string | undefined => {
  switch (event.type) {
    case 'sync.acked':
      return SYNC_ACKS;
    case 'sync.demanded':
      return SYNC_DEMANDS;
    case 'region.heartbeat':
      return REGIONS_STATUS;
    default:
      return undefined;
  }
};

const acceptedGiven = (event: CoordinatorEvent, canonical: string): readonly string[] => {
  const legacy = legacySubjectFor(event);
  return legacy === undefined ? [canonical, apiSubject(canonical)] : [canonical, apiSubject(canonical), legacy];
};

/** Every subject the fold accepts an event on: canonical, API, legacy shared (if any). */
export const acceptedSubjects = (event: CoordinatorEvent): readonly string[] => acceptedGiven(event, subjectFor(event));

const listed = (subjects: readonly string[]): string =>
  subjects.length <= 1 ? (subjects[0] ?? '') : `${subjects.slice(0, -1).join(', ')} or ${subjects[subjects.length - 1] ?? ''}`;

/**
 * Why the fold refuses an event on `subject` (undefined: it is accepted there), as a decoder's
 * `field: reason`. On a region's own subject, naming another region is the forgery to name.
 */
export const subjectProblem = (event: CoordinatorEvent, subject: string): string | undefined => {
  const canonical = subjectFor(event);
  // Most events are on their canonical subject: answered before any list is built (once per event of every replay).
  if (subject === canonical) return undefined;
  const accepted = acceptedGiven(event, canonical);
  if (accepted.includes(subject)) return undefined;
  const token = regionOfSubject(subject);
  if (token !== undefined && 'region' in event && event.region !== token) {
    return `region: ${event.region} is not the region of subject ${subject} (a region publishes only for itself)`;
  }
  return `subject: ${event.type} from region/operator must be published on ${listed(accepted)}, got ${subject}`;
};
