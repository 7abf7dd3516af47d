// Why the log refused an event: a typed value, decided once by the domain and mapped once at each
// edge (gRPC status, CLI). `field` names what was wrong in the event's own terms.
export const REJECTION_CODES = ['not_found', 'already_exists', 'stale', 'conflict', 'failed_precondition', 'invalid'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type Rejection = {
  readonly code: RejectionCode;
  readonly field: string;
  readonly reason: string;
  /** An event applied in part: every entry it refused (the first gives code, field and reason). */
  readonly entries?: readonly Rejection[];
};

export const rejection = (code: RejectionCode, field: string, reason: string): Rejection => ({ code, field, reason });

/** The whole event, not one of its fields. */
export const WHOLE_EVENT = '(event)';

/** `field: reason`, the sentence operators read (just the reason when it is about the whole event). */
export const describeRejection = (r: Rejection): string =>
  r.entries !== undefined
    ? `partially applied: ${r.entries.map((e) => describeRejection(e)).join('; ')}`
    : r.field === WHOLE_EVENT ? r.reason : `${r.field}: ${r.reason}`;

/** A decoder's message (`path: expected …; …`) as a rejection naming its first field. */
export const invalidEvent = (message: string): Rejection => {
  const colon = message.indexOf(': ');
  const field = colon > 0 && colon < 200 ? message.slice(0, colon) : WHOLE_EVENT;
  return field === WHOLE_EVENT ? rejection('invalid', WHOLE_EVENT, message) : rejection('invalid', field, message.slice(colon + 2));
};

export const notRegisteredRegion = (region: string, field = 'region'): Rejection =>
  rejection('not_found', field, `${region} is not a registered region`);
