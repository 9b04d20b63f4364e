import { AppError, type ErrorDetails } from '@nessus-mcp/core/errors';
import type { SecretRedactor } from './redaction.js';

export interface CallContext {
  instanceId: string;
  method: string;
  /** Templated route, e.g. `/scans/:id/launch`. */
  route: string;
}

export const LICENCE_MESSAGE =
  'This Nessus edition does not allow scan control over the API (HTTP 412 "API is not available": ' +
  'its licence has scan_api disabled, as on Nessus Essentials and Professional). Use a Nessus ' +
  'edition whose licence includes the scan API, or disable this scanner instance.';

/** Network failures worth a retry by the caller (BullMQ attempts): the request may well succeed next time. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_READING_RESPONSE_STREAM',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|SSL/;

/** The `error` text of a Nessus JSON error body (`{"error":"..."}`, or `{"status":"error"}` for exports). */
export function nessusErrorText(body: string): string | null {
  if (!body) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const record = parsed as Record<string, unknown>;
      if (typeof record.error === 'string') return record.error;
      if (record.status === 'error') return 'error';
    }
  } catch {
    // Not JSON (an HTML error page from a proxy): keep a short excerpt below.
  }
  return body.slice(0, 200);
}

function details(ctx: CallContext, extra: ErrorDetails): ErrorDetails {
  return { instance_id: ctx.instanceId, method: ctx.method, route: ctx.route, ...extra };
}

export function licenceError(ctx: CallContext, nessusError: string | null): AppError {
  return new AppError('scanner_unavailable', LICENCE_MESSAGE, {
    retryable: false,
    details: details(ctx, { status: 412, nessus_error: nessusError ?? 'API is not available' }),
  });
}

/** Maps a non-2xx answer to the error a caller can act on. */
export function httpError(ctx: CallContext, status: number, body: string, redactor: SecretRedactor): AppError {
  const raw = nessusErrorText(body);
  const nessusError = raw === null ? null : redactor.redact(raw);
  const where = `${ctx.method} ${ctx.route}`;
  const said = nessusError ? `: ${nessusError}` : '';
  const extra = { status, ...(nessusError ? { nessus_error: nessusError } : {}) };
  if (status === 412) return licenceError(ctx, nessusError);
  if (status === 401) {
    return new AppError(
      'scanner_error',
      `Nessus instance '${ctx.instanceId}' rejected this system's credentials (${where}${said}); check its API keys or username/password.`,
      {
        retryable: false,
        details: details(ctx, extra),
      },
    );
  }
  if (status === 404) {
    return new AppError('not_found', `Nessus instance '${ctx.instanceId}' has no such object (${where}${said}).`, { details: details(ctx, extra) });
  }
  if (status === 409) {
    return new AppError('conflict', `Nessus instance '${ctx.instanceId}' refused ${where} in the object's current state${said}.`, {
      details: details(ctx, extra),
    });
  }
  if (status >= 500) {
    return new AppError('scanner_error', `Nessus instance '${ctx.instanceId}' failed ${where} with HTTP ${status}${said}.`, {
      retryable: true,
      details: details(ctx, extra),
    });
  }
  return new AppError('scanner_error', `Nessus instance '${ctx.instanceId}' refused ${where} with HTTP ${status}${said}.`, {
    retryable: false,
    details: details(ctx, extra),
  });
}

interface TransportErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { statusCode?: unknown } | undefined;
}

/**
 * Maps a failure without a usable answer (connection refused, reset, timeout, TLS). A 412 whose
 * socket closed before its 32-byte body is still the licence refusal (docs/nessus-api.md §B.2).
 * The got error itself is not kept as `cause`: its `options` hold the request headers, which
 * carry the API keys or the session token.
 */
export function transportError(ctx: CallContext, error: unknown, redactor: SecretRedactor): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as TransportErrorLike;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  if (status === 412) return licenceError(ctx, null);
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const message = redactor.redact(typeof e.message === 'string' ? e.message : String(error));
  const where = `${ctx.method} ${ctx.route}`;
  const extra: ErrorDetails = { cause_code: code, ...(status !== undefined ? { status } : {}) };
  if (TLS_CODE.test(code)) {
    return new AppError(
      'scanner_error',
      `TLS verification of Nessus instance '${ctx.instanceId}' failed (${code}) on ${where}; set its ca_file, or tls_verify: false if you accept an unverified connection.`,
      { retryable: false, details: details(ctx, extra) },
    );
  }
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new AppError('scanner_error', `Nessus instance '${ctx.instanceId}' did not answer ${where} in time (${message}).`, {
      retryable: true,
      details: details(ctx, extra),
    });
  }
  const retryable = RETRYABLE_NETWORK_CODES.has(code) || /socket hang up|aborted/i.test(message);
  return new AppError('scanner_error', `Could not reach Nessus instance '${ctx.instanceId}' for ${where}: ${message}.`, {
    retryable,
    details: details(ctx, extra),
  });
}
