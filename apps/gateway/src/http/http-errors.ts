import { AppError, toAppError, type ErrorCode } from '@nessus-mcp/core';
import { cleanUntrustedValue } from '@nessus-mcp/schema';
import type { FastifyError, FastifyInstance } from 'fastify';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_argument',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'invalid_argument',
  406: 'invalid_argument',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'invalid_argument',
  429: 'rate_limited',
};

/** Fastify's own errors (bad JSON, body too large, unsupported media type) mapped onto AppError. */
export function httpErrorToAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as Partial<FastifyError>;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  const code = STATUS_CODES[status];
  if (code && fastifyError.message) {
    // Fastify's client-error messages are generic ("Body is too large"), safe to show.
    return new AppError(code, fastifyError.message);
  }
  return toAppError(error);
}

/** Every error leaves as `{"error": {...}}` with the code's status, never a stack trace. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = httpErrorToAppError(error);
    if (appError.code === 'internal') request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, appError.message);
    if (appError.code === 'rate_limited' && appError.details?.retry_after_seconds !== undefined) {
      reply.header('retry-after', String(appError.details.retry_after_seconds));
    }
    // Messages quote what the caller sent, which may hold invisible text.
    return reply.status(appError.httpStatus).type('application/json; charset=utf-8').send(cleanUntrustedValue(appError.toBody()));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}; see /docs for the REST API and POST /mcp for MCP`);
    return reply.status(404).send(error.toBody());
  });
}
