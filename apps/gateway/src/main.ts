#!/usr/bin/env node
import { allowedHostsFrom, allowedOriginsFrom } from './allowed-hosts.js';
import { exitWithSupervisor } from '@nessus-mcp/core';
import { buildGateway } from './gateway.js';
import { createGatewayRuntime, type GatewayRuntime } from './gateway-runtime.js';

/** `npm run gateway`: the HTTP gateway in the foreground, configured from the environment (README, "Environment variables"). */
async function main(): Promise<void> {
  let runtime: GatewayRuntime;
  try {
    runtime = await createGatewayRuntime();
  } catch (error) {
    process.stderr.write(`gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const { config, logger } = runtime;
  const env = process.env;
  const allowedHosts = allowedHostsFrom(env, config.gatewayHost);
  const perSecond = Number(env.GATEWAY_RATE_LIMIT_PER_SECOND || 50);
  if (!Number.isFinite(perSecond) || perSecond <= 0) {
    process.stderr.write(
      `gateway: GATEWAY_RATE_LIMIT_PER_SECOND=${env.GATEWAY_RATE_LIMIT_PER_SECOND} must be a positive number of requests per second per token\n`,
    );
    process.exit(1);
  }
  const gateway = await buildGateway({
    services: runtime.services,
    logger,
    authTokens: runtime.authTokens,
    access: runtime.access,
    allowedHosts,
    allowedOrigins: allowedOriginsFrom(env),
    rateLimit: { perSecond, burst: perSecond * 4 },
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    // Stop accepting, let in-flight requests finish, then release queues and Redis.
    await gateway.app.close();
    await runtime.close();
    logger.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  exitWithSupervisor(() => void stop('supervisor gone'));
  runtime.reloadOnSighup(() => gateway.refreshQueues());

  try {
    const address = await gateway.app.listen({ host: config.gatewayHost, port: config.gatewayPort });
    logger.info({ address, mcp: `${address}/mcp`, docs: `${address}/docs`, bull_board: `${address}/admin/queues` }, 'gateway listening');
  } catch (error) {
    process.stderr.write(`gateway: cannot listen on ${config.gatewayHost}:${config.gatewayPort}: ${error instanceof Error ? error.message : String(error)}\n`);
    await runtime.close();
    process.exit(1);
  }
}

void main();
