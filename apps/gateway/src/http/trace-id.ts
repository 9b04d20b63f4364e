import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TRACE_HEADER = 'x-trace-id';
const TRACE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's request id is the trace id: a caller's `X-Trace-Id` when it is sane (it ends up in
 * logs and job data, so nothing that could forge log lines), else a new UUID.
 */
export function traceIdOf(request: IncomingMessage): string {
  const header = request.headers[TRACE_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && TRACE_ID_PATTERN.test(value) ? value : randomUUID();
}
