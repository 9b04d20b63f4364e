/**
 * The one error type that crosses every boundary (service layer, MCP tools, REST routes, worker).
 * Transports map `code` to their own shape: an MCP `isError` result or an HTTP status.
 * This module has no dependencies so that the parser-free `schema` package can use it.
 */

export const ERROR_CODES = [
  'invalid_argument',
  'not_found',
  'conflict',
  'not_ready',
  'out_of_scope',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'scanner_unavailable',
  'scanner_error',
  'config_invalid',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status each code maps to on the REST mirror. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  conflict: 409,
  not_ready: 409,
  out_of_scope: 422,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  payload_too_large: 413,
  scanner_unavailable: 503,
  scanner_error: 502,
  config_invalid: 500,
  internal: 500,
};

export type ErrorDetails = Record<string, unknown>;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
}

export interface AppErrorOptions {
  details?: ErrorDetails;
  /** Whether a retry of the same operation could succeed (network, 5xx). Drives BullMQ retries. */
  retryable?: boolean;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/**
 * Turns anything thrown into an AppError. Unknown errors become `internal` with a generic
 * message: their text may carry paths, hosts or secrets, so it is never shown to callers.
 */
export function toAppError(value: unknown): AppError {
  if (value instanceof AppError) return value;
  return new AppError('internal', 'An internal error occurred; see the server logs (search by trace id).', { cause: value });
}

export const invalidArgument = (message: string, details?: ErrorDetails): AppError =>
  new AppError('invalid_argument', message, details ? { details } : {});
export const notFound = (message: string, details?: ErrorDetails): AppError =>
  new AppError('not_found', message, details ? { details } : {});
export const conflict = (message: string, details?: ErrorDetails): AppError =>
  new AppError('conflict', message, details ? { details } : {});
