import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '@nessus-mcp/core';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import authPlugin from './http/auth-plugin.js';
import { bullBoardPlugin, type BullBoardHandle } from './http/bull-board-plugin.js';
import { GatewayMetrics } from './http/gateway-metrics.js';
import { healthPlugin } from './http/health-plugin.js';
import { installErrorHandling } from './http/http-errors.js';
import { mcpPlugin } from './http/mcp-plugin.js';
import { httpMetricsPlugin, metricsRoutePlugin } from './http/metrics-plugin.js';
import { RequestLimiter } from './http/request-limiter.js';
import { restPlugin } from './http/rest-plugin.js';
import { TRACE_HEADER, traceIdOf } from './http/trace-id.js';
import { SERVER_VERSION } from './mcp/build-mcp-server.js';
import type { GatewayServices } from './services/gateway-services.js';

export interface GatewayOptions {
  services: GatewayServices;
  logger: Logger;
  authTokens: readonly string[];
  /** Host names accepted in the Host header of /mcp (DNS rebinding guard). Default: loopback names. */
  allowedHosts?: readonly string[];
  /** Browser origins accepted on /mcp besides those whose host name is an allowed host. */
  allowedOrigins?: readonly string[];
  /** Default 50 requests/s sustained per token, bursts of 200; shared by every gateway on the same Redis. */
  rateLimit?: { perSecond: number; burst: number };
  /** Largest request body. Default 1 MiB (a targets list of 100,000 characters fits easily). */
  bodyLimitBytes?: number;
}

export interface Gateway {
  app: FastifyInstance;
  metrics: GatewayMetrics;
  /** Re-reads the queue list after a scanner configuration reload. */
  refreshQueues(): void;
}

export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

/**
 * The gateway's HTTP server. Each feature is its own plugin with its own hooks: auth is a hook
 * each protected plugin adds to its own scope, so nothing guarding /admin/queues or /mcp can
 * leak onto /health, and the order below is the whole wiring.
 */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    genReqId: traceIdOf,
    logController: new LogController({ requestIdLogLabel: 'trace_id' }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Agents' long-polls are short calls; a stuck client must not hold a socket forever.
    requestTimeout: 120_000,
  });
  const metrics = new GatewayMetrics(options.services.context.queues);
  const allowedHosts = options.allowedHosts ?? LOOPBACK_HOSTS;
  let board: BullBoardHandle | null = null;

  app.addHook('onRequest', async (request, reply) => {
    // On the raw response so hijacked replies (/mcp) carry it too.
    reply.raw.setHeader(TRACE_HEADER, request.id);
  });
  installErrorHandling(app);
  await app.register(httpMetricsPlugin, { metrics });
  const { redis, tasks } = options.services.context;
  const limiterLog = options.logger.child({ component: 'rate-limit' });
  await app.register(authPlugin, {
    tokens: options.authTokens,
    requests: new RequestLimiter(redis, tasks.keys, options.rateLimit ?? { perSecond: 50, burst: 200 }, limiterLog),
    failures: new RequestLimiter(redis, tasks.keys, { perSecond: 1, burst: 20 }, limiterLog),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'nessus-mcp REST API',
        version: SERVER_VERSION,
        description: 'REST mirror of the nessus-mcp MCP tools: same parameters, same errors ({"error": {"code", "message", "details"}}). MCP clients use POST /mcp.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_TOKEN (or DATA_DIR/auth-token)' } } },
      security: [{ bearer: [] }],
    },
    // Only the REST mirror is documented; /mcp, Bull Board and probes are not REST resources.
    // `.describe()` texts live in zod's global registry, so the default transform reads them; no schema
    // is registered there with an id, which would turn MCP output schemas into bare $refs.
    transform: (input) => (input.url.startsWith('/api/v1/') ? jsonSchemaTransform(input) : { schema: { ...input.schema, hide: true }, url: input.url }),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: true },
    uiHooks: { onRequest: app.requireAuth({ allowBasic: true }) },
  });

  await app.register(healthPlugin, { services: options.services });
  await app.register(metricsRoutePlugin, { metrics });
  await app.register(mcpPlugin, { services: options.services, metrics, allowedHosts, allowedOrigins: options.allowedOrigins ?? [] });
  await app.register(restPlugin, { prefix: '/api/v1', services: options.services });
  await app.register(bullBoardPlugin, { queues: options.services.context.queues, onReady: (handle) => (board = handle) });

  return { app, metrics, refreshQueues: () => board?.refresh() };
}
