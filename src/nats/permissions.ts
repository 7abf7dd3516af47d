// What each NATS user may publish and subscribe to: the subject layout of issue #12 as nats-server
// permissions. Pure. Everything here is an allow list: a subject no rule allows is refused.
import {
  CONFLICTS, REGIONS_STATUS, SUBJECT_PREFIX, SYNC_ACKS, SYNC_DEMANDS, SYNC_DISPATCHED, SYNC_REQUESTS, changesSubject,
} from '../../streams/subjects.js';
import type { Role } from '../auth/model.js';

export type Streams = { readonly eventStream: string; readonly syncStream: string };

export type Permissions = {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
};

/** A region's four doors: changes, acks, demands, status (heartbeats and registrations). */
export const regionSubjects = (region: string): string[] => [
  changesSubject(region), `${SYNC_ACKS}.${region}`, `${SYNC_DEMANDS}.${region}`, `${REGIONS_STATUS}.${region}`,
];

/** Subjects only the coordinator publishes on (denied to every other user, on top of not being allowed). */
export const COORDINATOR_ONLY: readonly string[] = [
  `${SUBJECT_PREFIX}.api.>`, `${SUBJECT_PREFIX}.admin.>`, SYNC_DISPATCHED,
  // The shared subjects of before #12: a subject permission cannot tell regions apart on them.
  SYNC_ACKS, SYNC_DEMANDS, REGIONS_STATUS,
  `${SYNC_REQUESTS}.>`, CONFLICTS,
];

/**
 * The durable pull consumer a region reads its sync requests from. The coordinator creates it;
 * regions may not create consumers, since a create request can also set a push `deliver_subject`,
 * which nats-server does not check against the creator's permissions.
 */
export const regionConsumerName = (region: string): string => `jzse-sync-${region}`;

/** Each user's own inbox prefix (nats.js `inboxPrefix`): replies to one user cannot be read by another. */
export const inboxPrefix = (tokenId: string): string => `_INBOX_${tokenId}`;

/** Account info (`jetstreamManager()` asks for it): counts and limits, no contents. */
const JS_ACCOUNT_INFO = '$JS.API.INFO';

const regionAllows = (region: string, s: Streams): string[] => {
  const consumer = regionConsumerName(region);
  return [
    ...regionSubjects(region),
    `$JS.API.CONSUMER.INFO.${s.syncStream}.${consumer}`,
    `$JS.API.CONSUMER.MSG.NEXT.${s.syncStream}.${consumer}`,
    `$JS.ACK.${s.syncStream}.${consumer}.>`,
  ];
};

/**
 * Reading the event stream: info, get by sequence, and consumers of its own making (ephemeral or
 * ordered, what the jzse CLI reads with). Consumer deletes are not allowed: ephemeral ones go away
 * by themselves once idle (nats.js gives ordered consumers an inactive threshold).
 */
const readerAllows = (s: Streams): string[] => {
  const e = s.eventStream;
  return [
    `$JS.API.STREAM.INFO.${e}`,
    `$JS.API.STREAM.MSG.GET.${e}`,
    `$JS.API.DIRECT.GET.${e}`, `$JS.API.DIRECT.GET.${e}.>`,
    `$JS.API.CONSUMER.CREATE.${e}`, `$JS.API.CONSUMER.CREATE.${e}.>`,
    `$JS.API.CONSUMER.INFO.${e}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${e}.*`,
  ];
};

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** The roles whose tokens read the event stream over NATS and publish nothing (the jzse CLI's). */
export const READER_ROLES: readonly Role[] = ['admin', 'operator', 'auditor'];

/**
 * The permissions of one token's NATS user: the union over its region grants and its reader grant
 * (auditor, operator or admin: all three only read over NATS; operators and admins act through gRPC).
 * Undefined when it has neither.
 */
export const permissionsFor = (tokenId: string, g: { regions: readonly string[]; reader: boolean }, s: Streams): Permissions | undefined => {
  if (g.regions.length === 0 && !g.reader) return undefined;
  const allow = [JS_ACCOUNT_INFO, ...g.regions.flatMap((r) => regionAllows(r, s)), ...(g.reader ? readerAllows(s) : [])];
  // A read-only user publishes nothing under jzse.; a region user must keep its own subjects.
  const deny = [...COORDINATOR_ONLY, ...(g.regions.length === 0 ? [`${SUBJECT_PREFIX}.>`] : [])];
  return { publish: { allow: sorted(allow), deny: sorted(deny) }, subscribe: { allow: [`${inboxPrefix(tokenId)}.>`] } };
};
