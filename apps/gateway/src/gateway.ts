import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '@nessus-mcp/core';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { AccessControl } from './auth/access-control.js';
import authPlugin from './http/auth-plugin.js';
import { browserHeaders } from './http/browser-headers.js';
import { bullBoardPlugin, type BullBoardHandle } from './http/bull-board-plugin.js';
import { GatewayMetrics } from './http/gateway-metrics.js';
import { healthPlugin } from './http/health-plugin.js';
import { installErrorHandling } from './http/http-errors.js';
import { lazyChildLoggerFactory } from './http/lazy-child-logger.js';
import { mcpPlugin } from './http/mcp-plugin.js';
import { oauthMetadataPlugin } from './http/oauth-metadata-plugin.js';
import { httpMetricsPlugin, metricsRoutePlugin } from './http/metrics-plugin.js';
import { RequestLimiter } from './http/request-limiter.js';
import { restPlugin } from './http/rest-plugin.js';
import { reportPlugin } from './http/report-plugin.js';
import { TRACE_HEADER, traceIdOf } from './http/trace-id.js';
import { SERVER_VERSION } from './mcp/build-mcp-server.js';
import type { GatewayServices } from './services/gateway-services.js';

export interface GatewayOptions {
  services: GatewayServices;
  logger: Logger;
  /** The operator's tokens (AUTH_TOKEN): every scope. Ignored when `access` is given. */
  authTokens: readonly string[];
  /** Operator tokens plus the access file's clients and OAuth (the runtime's, reloaded on SIGHUP). */
  access?: AccessControl;
  /** Failed logins per address before it is blocked, and seconds per regained try. Default 10 and 60. */
  loginThrottle?: { burst: number; refillSeconds: number };
  /** Host names accepted in the Host header of /mcp (DNS rebinding guard). Default: loopback names. */
  allowedHosts?: readonly string[];
  /** Browser origins accepted on /mcp besides those whose host name is an allowed host. */
  allowedOrigins?: readonly string[];
  /** Default 50 requests/s sustained per token, bursts of 200; shared by every gateway on the same Redis. */
  rateLimit?: { perSecond: number; burst: number };
  /** Largest request body. Default 1 MiB (a targets list of 100,000 characters fits easily). */
  bodyLimitBytes?: number;
}

/** One method and path as registered (path parameters as `:name`, wildcards as `*`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

export interface Gateway {
  app: FastifyInstance;
  metrics: GatewayMetrics;
  /** Every route of every plugin, including Bull Board's and Swagger UI's: what the scope check must cover. */
  routes: readonly RegisteredRoute[];
  /** Re-reads the queue list after a scanner configuration reload. */
  refreshQueues(): void;
}

const SWAGGER_UI_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

/**
 * The gateway's HTTP server. Each feature is its own plugin with its own hooks: auth is a hook
 * each protected plugin adds to its own scope, so nothing guarding /admin/queues or /mcp can
 * leak onto /health, and the order below is the whole wiring.
 */
/** A query string's values replaced, names kept: `?token=…` or `?ssh_password=…` must never reach a log. */
export function redactQueryValues(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const names = url
    .slice(mark + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => `${pair.split('=', 1)[0] ?? ''}=[redacted]`);
  return `${url.slice(0, mark)}?${names.join('&')}`;
}

/**
 * Fastify logs each request with its own `req` serializer (the full URL) unless the logger
 * instance carries a `serializers.req` of its own, which it merges over its defaults.
 */
function requestLogger(logger: Logger): FastifyBaseLogger {
  const child = logger.child({}) as unknown as FastifyBaseLogger & { serializers?: Record<string, (value: FastifyRequest) => unknown> };
  child.serializers = {
    req: (request) => ({
      method: request.method,
      url: redactQueryValues(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    }),
  };
  return child;
}

export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const app = Fastify({
    loggerInstance: requestLogger(options.logger),
    genReqId: traceIdOf,
    childLoggerFactory: lazyChildLoggerFactory,
    logController: new LogController({ requestIdLogLabel: 'trace_id' }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Agents' long-polls are short calls; a stuck client must not hold a socket forever.
    requestTimeout: 120_000,
  });
  const metrics = new GatewayMetrics(options.services.context.queues);
  const allowedHosts = options.allowedHosts ?? LOOPBACK_HOSTS;
  let board: BullBoardHandle | null = null;
  // Added before any plugin, so it sees the routes of every plugin registered below.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  // Hooks that never wait are written with `done` rather than async: an async hook costs a
  // promise and a microtask per request, and every request passes here.
  app.addHook('onRequest', (request, reply, done) => {
    // On the raw response so hijacked replies (/mcp) carry it too.
    reply.raw.setHeader(TRACE_HEADER, request.id);
    done();
  });
  installErrorHandling(app);
  await app.register(httpMetricsPlugin, { metrics });
  const access = options.access ?? new AccessControl(options.authTokens);
  const { redis, tasks } = options.services.context;
  await app.register(authPlugin, {
    access,
    requests: new RequestLimiter(redis, tasks.keys, options.rateLimit ?? { perSecond: 50, burst: 200 }, options.logger.child({ component: 'rate-limit' })),
    ...(options.loginThrottle ? { loginThrottle: options.loginThrottle } : {}),
    audit: options.services.context.audit,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'nessus-mcp REST API',
        version: SERVER_VERSION,
        description:
          'REST mirror of the nessus-mcp MCP tools: same parameters, same errors ({"error": {"code", "message", "details"}}). MCP clients use POST /mcp.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_TOKEN (or DATA_DIR/auth-token)' } } },
      security: [{ bearer: [] }],
    },
    // Only the REST mirror is documented; /mcp, Bull Board and probes are not REST resources.
    // `.describe()` texts live in zod's global registry, so the default transform reads them; no schema
    // is registered there with an id, which would turn MCP output schemas into bare $refs.
    transform: (input) => (input.url.startsWith('/api/v1/') ? jsonSchemaTransform(input) : { schema: { ...input.schema, hide: true }, url: input.url }),
  });
  // In its own scope so the auth hook also guards the UI's static files, which the plugin serves
  // through @fastify/static without its uiHooks.
  await app.register(async (docs) => {
    docs.addHook('onRequest', docs.requireAuth({ allowBasic: true, scope: 'nessus:read' }));
    docs.addHook('onSend', browserHeaders(SWAGGER_UI_CSP));
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      // Not kept in localStorage: a token persisted there outlives the session and any XSS can read it.
      uiConfig: { persistAuthorization: false },
      // The plugin's CSP (hashes of its inline scripts), without framing and without
      // upgrade-insecure-requests, which would break the UI on a plain-HTTP loopback gateway.
      staticCSP: true,
      transformStaticCSP: (header) => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/\s*upgrade-insecure-requests;?/, ''),
    });
  });

  await app.register(healthPlugin, { services: options.services });
  await app.register(oauthMetadataPlugin, { access });
  await app.register(metricsRoutePlugin, { metrics });
  await app.register(mcpPlugin, { services: options.services, metrics, allowedHosts, allowedOrigins: options.allowedOrigins ?? [] });
  await app.register(restPlugin, { prefix: '/api/v1', services: options.services });
  await app.register(reportPlugin, { prefix: '/api/v1', services: options.services });
  await app.register(bullBoardPlugin, {
    queues: options.services.context.queues,
    onReady: (handle) => (board = handle),
    audit: options.services.context.audit,
  });

  return { app, metrics, routes, refreshQueues: () => board?.refresh() };
}
