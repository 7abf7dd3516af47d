// Errors are values inside the API (Either<ApiError, _>) and become gRPC statuses in one place.
import * as grpc from '@grpc/grpc-js';

export type ApiErrorCode =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'ABORTED' | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'INTERNAL';

export type ApiError = {
  readonly code: ApiErrorCode;
  readonly message: string;
  /** Sent as binary trailing metadata `jzse-<name>-bin` holding UTF-8 JSON (e.g. the current version). */
  readonly details?: Readonly<Record<string, unknown>>;
};

export const apiError = (code: ApiErrorCode, message: string, details?: Record<string, unknown>): ApiError =>
  details === undefined ? { code, message } : { code, message, details };

export const invalid = (message: string): ApiError => apiError('INVALID_ARGUMENT', message);

export const toServiceError = (e: ApiError): Partial<grpc.StatusObject> => {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(e.details ?? {})) metadata.set(`jzse-${name}-bin`, Buffer.from(JSON.stringify(value)));
  return { code: grpc.status[e.code], details: e.message, metadata };
};

/** Maps a rejection reason from the fold to the status a caller expects. */
export const fromRejection = (reason: string): ApiError => {
  if (/is not registered|no conflict/.test(reason)) return apiError('NOT_FOUND', reason);
  if (/already registered/.test(reason)) return apiError('ALREADY_EXISTS', reason);
  if (/stale write|older than/.test(reason)) return apiError('ABORTED', reason);
  return apiError('FAILED_PRECONDITION', reason);
};
