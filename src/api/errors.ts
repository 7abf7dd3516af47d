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

/**
 * The message and trailers travel as HTTP/2 headers. gRPC's C-core and Java clients refuse more
 * than 8 KiB of them by default, and a header block past a grpc-js client's limit (~64 KiB) is
 * never answered: that call and every other call on the connection hang. So both are bounded.
 */
export const MAX_MESSAGE_CHARS = 1024;
export const MAX_DETAIL_BYTES = 4096;

export const toServiceError = (e: ApiError): Partial<grpc.StatusObject> => {
  const metadata = new grpc.Metadata();
  const notes: string[] = [];
  for (const [name, value] of Object.entries(e.details ?? {})) {
    const bytes = Buffer.from(JSON.stringify(value));
    if (bytes.length <= MAX_DETAIL_BYTES) metadata.set(`jzse-${name}-bin`, bytes);
    else notes.push(`trailer jzse-${name}-bin left out: ${bytes.length} bytes, more than ${MAX_DETAIL_BYTES}`);
  }
  const message = e.message.length <= MAX_MESSAGE_CHARS
    ? e.message
    : `${e.message.slice(0, MAX_MESSAGE_CHARS)}... (${e.message.length - MAX_MESSAGE_CHARS} more characters)`;
  return { code: grpc.status[e.code], details: notes.length > 0 ? `${message} (${notes.join('; ')})` : message, metadata };
};

/** Maps a rejection reason from the fold to the status a caller expects. */
export const fromRejection = (reason: string): ApiError => {
  if (/is not registered|no conflict/.test(reason)) return apiError('NOT_FOUND', reason);
  if (/already registered/.test(reason)) return apiError('ALREADY_EXISTS', reason);
  if (/stale write|older than/.test(reason)) return apiError('ABORTED', reason);
  return apiError('FAILED_PRECONDITION', reason);
};
