// Which rejected events an operator asked for: one predicate for the API and the CLI.
import type { RejectionCode } from '../../projections/rejection.js';
import type { RejectedEntry } from '../../projections/view.js';
import type { AuditContext } from './context.js';
import { values } from './status.js';

export type RejectionFilter = {
  readonly region?: string;
  readonly code?: RejectionCode;
  /** Store time, inclusive (ms since epoch). */
  readonly after?: number;
  /** Store time, exclusive (ms since epoch). */
  readonly before?: number;
};

export const matchesRejection = (f: RejectionFilter) => (e: RejectedEntry): boolean => {
  if (f.region !== undefined && e.region !== f.region) return false;
  if (f.code !== undefined && e.code !== f.code) return false;
  const at = Date.parse(e.storedAt);
  return (f.after === undefined || at >= f.after) && (f.before === undefined || at < f.before);
};

/** Newest first: what an operator looks at first. */
export const bySeqDescending = (a: RejectedEntry, b: RejectedEntry): number => b.seq - a.seq;

/** Rejected events in the view (etcd), newest first, that match `f`: at most `limit`. */
export const listRejections = async (ctx: AuditContext, f: RejectionFilter, limit: number): Promise<{ total: number; matching: number; rejections: RejectedEntry[] }> => {
  const all = await values<RejectedEntry>(ctx, 'rejected');
  const matching = all.filter(matchesRejection(f)).sort(bySeqDescending);
  return { total: all.length, matching: matching.length, rejections: matching.slice(0, limit) };
};
