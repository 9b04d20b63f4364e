import type { onSendHookHandler } from 'fastify';

/** Bull Board's page: its own scripts and styles, Google Fonts for its typeface, JSON API calls to itself. */
export const BULL_BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com data:; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * Headers for the browser UIs (Bull Board, Swagger UI): they act with the operator's credentials,
 * so no other site may frame them (clickjacking a "retry" or "clean" button) and a CSP limits
 * what an injected script could load. `csp` is used only when the page set none of its own.
 */
export function browserHeaders(csp: string): onSendHookHandler {
  return async (_request, reply, payload) => {
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp);
    return payload;
  };
}
