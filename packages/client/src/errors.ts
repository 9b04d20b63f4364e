import type { ErrorBody, NessusMcpErrorCode } from './types.js';

export interface NessusMcpErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error the client throws. `code` is stable (the server's codes such as `not_found`,
 * `invalid_argument`, plus the client's `unavailable`, `unauthorized`, `timeout`, `aborted`,
 * `deadline_exceeded`, `invalid_response`), so callers branch on it rather than on messages.
 */
export class NessusMcpError extends Error {
  readonly code: NessusMcpErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: NessusMcpErrorCode, message: string, options: NessusMcpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NessusMcpError';
    this.code = code;
    this.details = options.details;
  }

  /** The contract's error body, e.g. for `--json` output. */
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isNessusMcpError(value: unknown): value is NessusMcpError {
  return value instanceof NessusMcpError;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads `{"error":{"code","message","details"?}}`; null for anything else. */
export function readErrorBody(value: unknown): NessusMcpError | null {
  if (!isRecord(value) || !isRecord(value.error)) return null;
  const { code, message, details } = value.error;
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return new NessusMcpError(code, message, isRecord(details) ? { details } : {});
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The error an `isError` tool result stands for. The gateway writes the contract's error body;
 * the SDK itself answers argument-schema failures with plain text ("Input validation error"),
 * which is still the caller's mistake, so it maps to `invalid_argument`.
 */
export function errorFromToolResult(tool: string, text: string): NessusMcpError {
  const fromBody = readErrorBody(parseJson(text.trim()));
  if (fromBody) return fromBody;
  const message = text.trim() === '' ? `${tool} failed without saying why` : `${tool}: ${text.trim()}`;
  if (/validation error|invalid arguments/i.test(text)) return new NessusMcpError('invalid_argument', message);
  return new NessusMcpError('internal', message);
}
