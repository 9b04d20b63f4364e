import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError } from '@nessus-mcp/core';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestLimiter } from './request-limiter.js';

export interface AuthPluginOptions {
  /** Accepted bearer tokens (several during a rotation). */
  tokens: readonly string[];
  /** Requests per token, shared by every gateway. */
  requests: RequestLimiter;
  /** Failed authentications per client address (slows token guessing). */
  failures: RequestLimiter;
}

export interface AuthHookOptions {
  /** Browsers cannot send bearer tokens: Bull Board and Swagger UI also take HTTP Basic, token as password. */
  allowBasic?: boolean;
  /**
   * The route charges the token itself once its body is parsed (`chargeRequests`), because one
   * request may carry several calls (a JSON-RPC batch); otherwise a request costs one here.
   */
  chargedByRoute?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook guarding one plugin's routes; each feature plugin adds it to its own scope. */
    requireAuth(options?: AuthHookOptions): onRequestAsyncHookHandler;
    /** Takes `cost` requests from the authenticated token's limit; sends the 429 and returns the reply when refused. */
    chargeRequests(request: FastifyRequest, reply: FastifyReply, cost: number): Promise<FastifyReply | undefined>;
  }
  interface FastifyRequest {
    /** Short non-secret id of the token used (for logs and rate limiting). */
    tokenId?: string;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

function credentialFrom(request: FastifyRequest, allowBasic: boolean): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (allowBasic && scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? null : decoded.slice(colon + 1);
  }
  return null;
}

/**
 * Bearer auth for everything but /health and /ready. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, against every configured token without early exit, so timing reveals neither
 * a token's prefix nor which one matched. Requests are then rate limited per token; failed
 * attempts per client address, which slows token guessing.
 */
const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  const known = options.tokens.map((token) => ({ digest: digest(token), id: digest(token).toString('hex').slice(0, 12) }));

  const identify = (credential: string): string | null => {
    const candidate = digest(credential);
    let match: string | null = null;
    for (const token of known) {
      if (timingSafeEqual(candidate, token.digest) && match === null) match = token.id;
    }
    return match;
  };

  // The reply is sent here rather than thrown: Bull Board installs its own error handler in its
  // scope, which would turn a thrown 401 into a 500.
  const refuse = (reply: FastifyReply, error: AppError): FastifyReply => {
    if (error.code === 'rate_limited') reply.header('retry-after', String(error.details?.retry_after_seconds ?? 1));
    return reply.status(error.httpStatus).type('application/json; charset=utf-8').send(error.toBody());
  };

  const charge = async (reply: FastifyReply, tokenId: string, cost: number): Promise<FastifyReply | undefined> => {
    const decision = await options.requests.take(tokenId, cost);
    if (decision.allowed) return undefined;
    const { perSecond, burst } = options.requests.limit;
    if ('tooLarge' in decision) {
      return refuse(reply, new AppError('rate_limited', `this request carries ${cost} calls, more than the ${burst} this token may send at once; send them in smaller batches`, { details: { calls: cost, burst } }));
    }
    const wait = decision.retryAfterSeconds;
    return refuse(reply, new AppError('rate_limited', `rate limit of ${perSecond} requests/s for this token exceeded; retry in ${wait} s`, { details: { retry_after_seconds: wait } }));
  };

  app.decorate('chargeRequests', async (request: FastifyRequest, reply: FastifyReply, cost: number): Promise<FastifyReply | undefined> => {
    if (request.tokenId === undefined) throw new AppError('internal', 'chargeRequests runs after requireAuth');
    return charge(reply, request.tokenId, cost);
  });

  app.decorate('requireAuth', (hookOptions: AuthHookOptions = {}): onRequestAsyncHookHandler => {
    const allowBasic = hookOptions.allowBasic ?? false;
    return async (request, reply) => {
      const credential = credentialFrom(request, allowBasic);
      const tokenId = credential === null ? null : identify(credential);
      if (tokenId === null) {
        const failure = await options.failures.take(`auth-failure:${request.ip}`);
        if (!failure.allowed) {
          const wait = 'retryAfterSeconds' in failure ? failure.retryAfterSeconds : 1;
          return refuse(reply, new AppError('rate_limited', 'too many failed authentication attempts; try again later', { details: { retry_after_seconds: wait } }));
        }
        reply.header('www-authenticate', allowBasic ? 'Basic realm="nessus-mcp", charset="UTF-8"' : 'Bearer realm="nessus-mcp"');
        return refuse(
          reply,
          new AppError(
            'unauthorized',
            credential === null ? `missing credentials: send "Authorization: Bearer <token>"${allowBasic ? ' or HTTP Basic with the token as password' : ''}` : 'invalid token',
          ),
        );
      }
      if (!hookOptions.chargedByRoute) {
        const refused = await charge(reply, tokenId, 1);
        if (refused) return refused;
      }
      request.tokenId = tokenId;
      // The MCP SDK hands `req.auth` to tools as `extra.authInfo`; it carries the token id, never the token.
      const auth: AuthInfo = { token: tokenId, clientId: tokenId, scopes: [] };
      (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = auth;
      return undefined;
    };
  });
};

export default fp(authPlugin, { name: 'nessus-auth', fastify: '5.x' });
