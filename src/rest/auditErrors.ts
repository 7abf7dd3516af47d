// What the audit functions raise on purpose (AuditError, with the CLI's exit code) as API errors:
// the same meaning, another door. Anything else stays a failure for the error handler.
import * as E from 'fp-ts/lib/Either.js';
import { apiError, type ApiError } from '../api/errors.js';
import { AuditError } from '../audit/errors.js';

const asApiError = (e: AuditError, field: string): ApiError => {
  const message = `${field}: ${e.message}`;
  switch (e.kind) {
    case 'usage': return apiError('INVALID_ARGUMENT', message);
    case 'notFound': return apiError('NOT_FOUND', message);
    case 'refused': return apiError('FAILED_PRECONDITION', message);
    case 'failed': return apiError('UNAVAILABLE', message);
  }
};

/** Runs an audit function; its AuditError becomes a value naming `field`, anything else is rethrown. */
export const audited = async <A>(run: () => Promise<A>, field: string): Promise<E.Either<ApiError, A>> => {
  try {
    return E.right(await run());
  } catch (error) {
    if (error instanceof AuditError) return E.left(asApiError(error, field));
    throw error;
  }
};
