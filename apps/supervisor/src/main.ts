#!/usr/bin/env node
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, createLogger, exitWithSupervisor, redactRedisUrl } from '@nessus-mcp/core';
import { startSystem } from './supervisor.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const log = createLogger({ name: 'supervisor', destination: 'stderr' });

function banner(system: Awaited<ReturnType<typeof startSystem>>): string {
  const lines = [
    '',
    'nessus-mcp is running.',
    `  MCP endpoint   ${system.gatewayUrl}/mcp   (Streamable HTTP)`,
    `  REST + Swagger ${system.gatewayUrl}/docs`,
    `  Bull Board     ${system.gatewayUrl}/admin/queues   (user: any, password: the token)`,
    `  Health         ${system.gatewayUrl}/health  ${system.gatewayUrl}/ready`,
    `  Metrics        ${system.gatewayUrl}/metrics`,
    `  Redis          ${redactRedisUrl(system.redisUrl)}${system.embeddedRedis ? '   (embedded, AOF)' : ''}`,
    ...(system.simulatorUrl ? [`  Nessus sim     ${system.simulatorUrl}   (control: ${system.simulatorUrl}/_sim/stats)`] : []),
    `  Bearer token   ${system.token}`,
    '',
    `  Try: curl -H "Authorization: Bearer ${system.token}" ${system.gatewayUrl}/api/v1/scanners`,
    '  Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}

try {
  const system = await startSystem({ root });
  process.stdout.write(`${banner(system)}\n`);
  process.on('SIGINT', () => void system.stop('SIGINT'));
  process.on('SIGTERM', () => void system.stop('SIGTERM'));
  // Started by `npm start`: stop everything if the bootstrap process above us dies.
  exitWithSupervisor(() => void system.stop('parent process gone'));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: asking the gateway and worker to reload scanners.yaml');
    system.reload();
  });
  // Exit explicitly: the stdin watch above keeps the event loop alive after everything stopped.
  process.exit(await system.done);
} catch (error) {
  const message = error instanceof AppError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`[nessus-mcp] cannot start: ${message}\n`);
  process.exitCode = 1;
}
