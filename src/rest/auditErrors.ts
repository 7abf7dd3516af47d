// What the audit functions raise on purpose (AuditError, with the CLI's exit code) as API errors:
// the same meaning, another door. Anything else stays a failure for the error handler.
import * as E from 'fp-ts/lib/Either.js';
import { apiError, type ApiError, type ApiErrorCode } from '../api/errors.js';
import { AuditError, type AuditErrorKind } from '../audit/errors.js';

const CODE_OF: Readonly<Record<AuditErrorKind, ApiErrorCode>> = {
  usage: 'INVALID_ARGUMENT',
  notFound: 'NOT_FOUND',
  refused: 'FAILED_PRECONDITION',
  failed: 'UNAVAILABLE',
};

/** Runs an audit function; its AuditError becomes a value naming `field`, anything else is rethrown. */
export const audited = async <A>(run: () => Promise<A>, field: string): Promise<E.Either<ApiError, A>> => {
  try {
    return E.right(await run());
  } catch (error) {
    if (error instanceof AuditError) return E.left(apiError(CODE_OF[error.kind], `${field}: ${error.message}`));
    throw error;
  }
};
