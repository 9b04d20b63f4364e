import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { isRecord, NessusMcpError, parseJson, readErrorBody } from './errors.js';

/*
 * Errors thrown by the MCP SDK and fetch, mapped to NessusMcpError codes. Kept apart from
 * errors.ts so that code needing only the error type (the CLI's usage paths) does not load the SDK.
 */

/** Where we connected, without any credentials a URL might embed. */
export function describeEndpoint(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The JSON error body the gateway put in an HTTP error response, which the SDK folds into its message. */
function bodyInMessage(message: string): NessusMcpError | null {
  const start = message.indexOf('{');
  return start < 0 ? null : readErrorBody(parseJson(message.slice(start)));
}

function networkCode(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; isRecord(current) || current instanceof Error; depth += 1) {
    if (depth > 4) break;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function fromHttpStatus(status: number, endpoint: string, cause: unknown, serverError: NessusMcpError | null): NessusMcpError {
  const said = serverError ? `: ${serverError.message}` : '';
  const options = { cause, details: { http_status: status, ...(serverError?.details ?? {}) } };
  if (status === 401) {
    return new NessusMcpError(
      'unauthorized',
      `the gateway at ${endpoint} refused the bearer token (HTTP 401)${said}; set AUTH_TOKEN to a token it accepts`,
      options,
    );
  }
  if (status === 403) return new NessusMcpError('forbidden', `the gateway at ${endpoint} refused access (HTTP 403)${said}`, options);
  if (status === 404 || status === 405) {
    return new NessusMcpError('unavailable', `no MCP endpoint at ${endpoint} (HTTP ${status}); check NESSUS_MCP_URL (it ends in /mcp)`, options);
  }
  if (status === 429) return new NessusMcpError('rate_limited', `the gateway at ${endpoint} is rate limiting (HTTP 429)${said}`, options);
  if (status >= 500) return new NessusMcpError('unavailable', `the gateway at ${endpoint} failed (HTTP ${status})${said}`, options);
  if (serverError) return new NessusMcpError(serverError.code, serverError.message, options);
  return new NessusMcpError('protocol_error', `the gateway at ${endpoint} answered HTTP ${status}`, options);
}

/** Maps whatever the SDK or fetch threw to a `NessusMcpError` with a code a caller can act on. */
export function errorFromThrown(error: unknown, endpoint: string, signal?: AbortSignal): NessusMcpError {
  if (error instanceof NessusMcpError) return error;
  if (signal?.aborted) return new NessusMcpError('aborted', 'the operation was aborted', { cause: signal.reason ?? error });
  if (error instanceof StreamableHTTPError) {
    const status = error.code ?? -1;
    if (status > 0) return fromHttpStatus(status, endpoint, error, bodyInMessage(error.message));
    return new NessusMcpError('protocol_error', `${endpoint} did not answer as an MCP endpoint: ${error.message}`, { cause: error });
  }
  if (error instanceof UnauthorizedError) {
    return new NessusMcpError('unauthorized', `the gateway at ${endpoint} refused the bearer token; set AUTH_TOKEN to a token it accepts`, { cause: error });
  }
  if (error instanceof McpError) {
    if (error.code === Number(ErrorCode.RequestTimeout)) {
      return new NessusMcpError('timeout', `the gateway at ${endpoint} did not answer in time`, { cause: error });
    }
    if (error.code === Number(ErrorCode.ConnectionClosed)) {
      return new NessusMcpError('unavailable', `the connection to ${endpoint} closed`, { cause: error });
    }
    return new NessusMcpError('protocol_error', error.message, { cause: error, details: { mcp_code: error.code } });
  }
  const network = networkCode(error);
  // Node's fetch reports every network failure as `TypeError: fetch failed`, the reason in `cause`.
  if (network !== null || (error instanceof TypeError && error.message === 'fetch failed')) {
    const reason = network ?? (error instanceof Error && error.cause instanceof Error ? error.cause.message : 'network error');
    return new NessusMcpError('unavailable', `cannot reach the gateway at ${endpoint} (${reason}); is it running? (npm start)`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NessusMcpError('protocol_error', `talking to ${endpoint} failed: ${message}`, { cause: error });
}
