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

export const invalidArgument = (message: string, details?: ErrorDetails): AppError => new AppError('invalid_argument', message, details ? { details } : {});
export const notFound = (message: string, details?: ErrorDetails): AppError => new AppError('not_found', message, details ? { details } : {});
export const conflict = (message: string, details?: ErrorDetails): AppError => new AppError('conflict', message, details ? { details } : {});

/** Local file-system failures a person can fix on the host, and how to say each one. */
const STORAGE_FAILURES: Record<string, { says: string; transient: boolean }> = {
  ENOSPC: { says: 'no space left on the disk', transient: true },
  EDQUOT: { says: 'the disk quota is used up', transient: true },
  EROFS: { says: 'the file system is read-only', transient: false },
  EACCES: { says: 'permission denied', transient: false },
  EPERM: { says: 'operation not permitted', transient: false },
  EIO: { says: 'an input/output error on the disk', transient: true },
  EMFILE: { says: 'too many open files in the process', transient: true },
  ENFILE: { says: 'too many open files on the system', transient: true },
};

/** A Node.js file-system error (it names a `syscall`) whose code is in the table above. */
export function isStorageFailure(value: unknown): value is NodeJS.ErrnoException & { code: string } {
  if (!(value instanceof Error)) return false;
  const { code, syscall } = value as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof syscall === 'string' && code in STORAGE_FAILURES;
}

/**
 * The error a task fails with when its files cannot be written under DATA_DIR (a full disk
 * most often). It names the cause and the fix, not the path: the message reaches API callers.
 * A full disk may be freed meanwhile, so those failures are retryable; a read-only or
 * forbidden directory is not.
 */
export function storageFailure(error: NodeJS.ErrnoException & { code: string }, doing: string): AppError {
  const failure = STORAGE_FAILURES[error.code] ?? { says: error.code, transient: false };
  return new AppError(
    'internal',
    `The worker could not ${doing} under its data directory (DATA_DIR): ${failure.says} (${error.code}). Free disk space or fix the directory, then retry the task from the failed set or submit the scan again.`,
    { retryable: failure.transient, cause: error, details: { cause_code: error.code, syscall: error.syscall } },
  );
}
