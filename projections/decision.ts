// What a decider concluded about one event, for its evolve to carry out. Rejections are separate
// values (rejection.ts): a decider returns Either<Rejection, Decision>.
import type * as E from 'fp-ts/lib/Either.js';
import type { Rejection } from './rejection.js';

/** Per ack entry: the current version (copy synced), an older one (copy known, still stale), or refused. */
export type AckVerdict = E.Either<Rejection, 'current' | 'older'>;

export type Decision =
  /** The id was applied before: nothing changes. */
  | { readonly kind: 'duplicate' }
  /** Valid, but it brings nothing new (a change EQUAL to the stored version). */
  | { readonly kind: 'no_op' }
  /** `skipped`: entries that could not be decoded, each refused alone (the event is applied in part). */
  | { readonly kind: 'applied'; readonly skipped?: readonly Rejection[] }
  /** A change CONCURRENT with the stored version: settled by the path's conflict strategy. */
  | { readonly kind: 'conflict' }
  | { readonly kind: 'acked'; readonly entries: readonly AckVerdict[] };

export const DUPLICATE: Decision = { kind: 'duplicate' };
export const NO_OP: Decision = { kind: 'no_op' };
export const APPLIED: Decision = { kind: 'applied' };
export const CONFLICT: Decision = { kind: 'conflict' };
