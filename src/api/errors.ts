// Errors are values inside the API (Either<ApiError, _>) and become gRPC statuses in one place.
import * as grpc from '@grpc/grpc-js';
import { WHOLE_EVENT, type Rejection, type RejectionCode } from '../../projections/rejection.js';
import type { RejectedEntry } from '../../projections/view.js';

export type ApiErrorCode =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'ABORTED' | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'INTERNAL' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED';

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

/** The one table from the domain's rejection codes to gRPC statuses (REST maps the same codes). */
export const STATUS_OF_REJECTION: Readonly<Record<RejectionCode, ApiErrorCode>> = {
  not_found: 'NOT_FOUND',
  already_exists: 'ALREADY_EXISTS',
  stale: 'ABORTED',
  conflict: 'ABORTED',
  failed_precondition: 'FAILED_PRECONDITION',
  invalid: 'INVALID_ARGUMENT',
};

/**
 * The same codes as HTTP statuses, for the REST API (src/rest/problem.ts). FAILED_PRECONDITION is
 * 409 (the resource's state does not allow it); 412 is only an `If-Match` that did not match, which
 * the REST layer raises itself (PRECONDITION_FAILED_STATUS).
 */
export const HTTP_STATUS_OF: Readonly<Record<ApiErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  FAILED_PRECONDITION: 409,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** How a request spells the event fields it was built from: event field (or its first segments) → request field. */
export type FieldNames = Readonly<Record<string, string>>;

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `file.fileId` → `metadata.file_id` (with names { file: 'metadata' }); unknown roots are snake-cased. */
export const requestField = (field: string, names: FieldNames): string => {
  if (field === WHOLE_EVENT) return '(request)';
  const parts = field.split('.');
  for (let n = parts.length; n > 0; n--) {
    const mapped = names[parts.slice(0, n).join('.')];
    if (mapped !== undefined) return [mapped, ...parts.slice(n).map(snake)].join('.');
  }
  return parts.map(snake).join('.');
};

/** A rejection as the caller's status, naming the field as the request spells it. */
export const fromRejection = (r: Pick<Rejection, 'code' | 'field' | 'reason'>, names: FieldNames = {}, details?: Record<string, unknown>): ApiError =>
  apiError(STATUS_OF_REJECTION[r.code], r.field === WHOLE_EVENT ? r.reason : `${requestField(r.field, names)}: ${r.reason}`, details);

/** A rejection recorded in the view (its reason already reads `field: why`). */
export const fromRejectedEntry = (e: RejectedEntry, names: FieldNames = {}): ApiError => {
  const prefix = `${e.field}: `;
  const reason = e.reason.startsWith(prefix) ? e.reason.slice(prefix.length) : e.reason;
  return fromRejection({ code: e.code ?? 'failed_precondition', field: e.field ?? WHOLE_EVENT, reason }, names);
};
