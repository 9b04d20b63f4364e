import type { FastifyPluginAsync } from 'fastify';
import type { GatewayServices } from '../services/gateway-services.js';

/** Liveness and readiness, without auth: orchestrators and load balancers call them. */
export const healthPlugin: FastifyPluginAsync<{ services: GatewayServices }> = async (app, { services }) => {
  const started = Date.now();
  app.get('/health', { logLevel: 'warn' }, async () => ({ status: 'ok', uptime_seconds: Math.round((Date.now() - started) / 1000) }));
  app.get('/ready', { logLevel: 'warn' }, async (_request, reply) => {
    const report = await services.checkReadiness();
    return reply.status(report.ready ? 200 : 503).send(report);
  });
};
