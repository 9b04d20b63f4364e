import { AppError, type AuditLog } from '@nessus-mcp/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessControl } from '../auth/access-control.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { forbiddenError, hasScope, type Principal, type RequiredScope } from '../auth/principal.js';
import { PROTECTED_RESOURCE_PATH } from './oauth-metadata-plugin.js';
import type { RequestLimiter } from './request-limiter.js';

export interface AuthPluginOptions {
  access: AccessControl;
  /** Requests per client, shared by every gateway through Redis. */
  requests: RequestLimiter;
  /** Failed logins per address before it is blocked, and seconds per regained try (docs/security.md). */
  loginThrottle?: { burst: number; refillSeconds: number };
  audit?: AuditLog;
}

export interface AuthHookOptions {
  /** Browsers cannot send bearer tokens: Bull Board and Swagger UI also take HTTP Basic, token as password. */
  allowBasic?: boolean;
  /**
   * The scope the request needs, when the routes are not this codebase's own (Bull Board, Swagger
   * UI). Otherwise each route declares `config: { scope }` next to its definition, and a route
   * that declares none is refused: a new route cannot forget its scope and end up open.
   */
  scope?: RequiredScope | ((request: FastifyRequest) => RequiredScope);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook guarding one plugin's routes; each feature plugin adds it to its own scope. */
    requireAuth(options?: AuthHookOptions): onRequestAsyncHookHandler;
  }
  interface FastifyRequest {
    /** Short non-secret id of the client (for logs and rate limiting). */
    tokenId?: string;
    /** Who is calling, set once authenticated. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The scope this route needs (see AuthHookOptions.scope). */
    scope?: RequiredScope;
  }
}

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

/** Where MCP clients find the authorization server (RFC 9728), from the configured resource when absolute. */
export function resourceMetadataUrl(request: FastifyRequest, resource: string): string {
  try {
    return new URL(PROTECTED_RESOURCE_PATH, new URL(resource).origin).href;
  } catch {
    return `${request.protocol}://${request.host}${PROTECTED_RESOURCE_PATH}`;
  }
}

/**
 * Bearer auth for everything but /health, /ready and the protected-resource metadata: the
 * operator's AUTH_TOKEN, the access file's clients, or an OAuth access token. Then, per request,
 * the failed-login block of the caller's address, the client's rate limit and the scope the route
 * declares, in that order.
 */
const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  const throttle = new LoginThrottle(options.loginThrottle?.burst, options.loginThrottle?.refillSeconds);

  // The reply is sent here rather than thrown: Bull Board installs its own error handler in its
  // scope, which would turn a thrown 401 into a 500.
  const refuse = (reply: FastifyReply, error: AppError): FastifyReply => {
    if (error.code === 'rate_limited') reply.header('retry-after', String(error.details?.retry_after_seconds ?? 1));
    return reply.status(error.httpStatus).type('application/json; charset=utf-8').send(error.toBody());
  };

  const challenge = (request: FastifyRequest, reply: FastifyReply, allowBasic: boolean, error?: string): void => {
    const oauth = options.access.oauth;
    const parts = ['Bearer realm="nessus-mcp"'];
    if (oauth !== null) parts.push(`resource_metadata="${resourceMetadataUrl(request, oauth.config.resource ?? oauth.config.audience)}"`);
    if (error !== undefined) parts.push(`error="${error}"`);
    reply.header('www-authenticate', allowBasic ? ['Basic realm="nessus-mcp", charset="UTF-8"', parts.join(', ')] : parts.join(', '));
  };

  const auditDenied = (request: FastifyRequest, principal: Principal, required: string): void => {
    void options.audit
      ?.record({
        client: principal.name,
        action: 'access.denied',
        task_id: null,
        targets: null,
        outcome: 'forbidden',
        detail: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} needs ${required}`,
      })
      .catch((error: unknown) => request.log.warn({ err: String(error) }, 'audit record not written'));
  };

  app.decorate('requireAuth', (hookOptions: AuthHookOptions = {}): onRequestAsyncHookHandler => {
    const allowBasic = hookOptions.allowBasic ?? false;
    return async (request, reply) => {
      const blocked = throttle.blockedFor(request.ip);
      if (blocked > 0) {
        return refuse(
          reply,
          new AppError('rate_limited', `too many failed authentication attempts from this address; try again in ${blocked} s`, {
            details: { retry_after_seconds: blocked },
          }),
        );
      }
      const credential = credentialFrom(request, allowBasic);
      if (credential === null) {
        challenge(request, reply, allowBasic);
        return refuse(
          reply,
          new AppError(
            'unauthorized',
            `missing credentials: send "Authorization: Bearer <token>"${allowBasic ? ' or HTTP Basic with the token as password' : ''}`,
          ),
        );
      }
      const outcome = await options.access.authenticate(credential);
      if (outcome === null || 'reason' in outcome) {
        throttle.recordFailure(request.ip);
        challenge(request, reply, allowBasic, 'invalid_token');
        return refuse(reply, new AppError('unauthorized', outcome === null ? 'invalid token' : `invalid token: ${outcome.reason}`));
      }
      const { principal, id } = outcome;
      const decision = await options.requests.take(id);
      if (!decision.allowed) {
        const wait = 'retryAfterSeconds' in decision ? decision.retryAfterSeconds : 1;
        return refuse(
          reply,
          new AppError('rate_limited', `rate limit of ${options.requests.limit.perSecond} requests/s for this client exceeded; retry in ${wait} s`, {
            details: { retry_after_seconds: wait },
          }),
        );
      }
      request.tokenId = id;
      request.principal = principal;
      const declared = hookOptions.scope ?? request.routeOptions.config.scope;
      const required = typeof declared === 'function' ? declared(request) : declared;
      if (required === undefined) {
        // Default deny: reaching here means a route was added without `config: { scope }`.
        return refuse(
          reply,
          new AppError('forbidden', `${request.method} ${request.routeOptions.url ?? ''} declares no required scope, so nobody may call it`),
        );
      }
      if (!hasScope(principal, required)) {
        auditDenied(request, principal, required);
        return refuse(
          reply,
          forbiddenError(
            principal,
            required as Exclude<RequiredScope, 'authenticated'>,
            `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
          ),
        );
      }
      return undefined;
    };
  });
};

export default fp(authPlugin, { name: 'nessus-auth', fastify: '5.x' });
