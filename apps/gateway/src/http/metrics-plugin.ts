import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * Records every response, hijacked ones (/mcp) included: the hook listens on the raw response's
 * `finish`, which fires whoever wrote the response.
 */
export const httpMetricsPlugin = fp<{ metrics: GatewayMetrics }>(
  async (app, { metrics }) => {
    app.addHook('onRequest', (request, reply, done) => {
      const started = process.hrtime.bigint();
      reply.raw.once('finish', () => {
        const route = request.routeOptions.url ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpRequests.inc({ method: request.method, route, status: String(reply.raw.statusCode) });
        metrics.httpDuration.observe({ method: request.method, route }, seconds);
      });
      done();
    });
  },
  { name: 'nessus-http-metrics' },
);

/** GET /metrics, behind the bearer token like everything but health. */
export const metricsRoutePlugin: FastifyPluginAsync<{ metrics: GatewayMetrics }> = async (app, { metrics }) => {
  app.addHook('onRequest', app.requireAuth());
  app.get('/metrics', { config: { scope: 'nessus:read' } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
};
