#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createGatewayRuntime, type GatewayRuntime } from './gateway-runtime.js';
import { operatorPrincipal } from './auth/principal.js';
import { buildMcpServer } from './mcp/build-mcp-server.js';
import { NegotiatedProtocolVersion } from './mcp/protocol-version.js';

/**
 * `nessus-mcp-stdio`: the same tools over stdio for desktop MCP clients. stdout is the protocol
 * channel, so every log line goes to stderr. It needs the same REDIS_URL, DATA_DIR and keys as
 * the worker it hands scans to.
 */
async function main(): Promise<void> {
  let runtime: GatewayRuntime;
  try {
    runtime = await createGatewayRuntime({ logDestination: 'stderr' });
  } catch (error) {
    process.stderr.write(`nessus-mcp-stdio: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const negotiated = new NegotiatedProtocolVersion();
  // Whoever can start this process holds REDIS_URL and the keys already: the operator.
  const server = buildMcpServer(runtime.services, { logger: runtime.logger, principal: operatorPrincipal(), protocolVersion: () => negotiated.value });
  const transport = new StdioServerTransport();
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    await runtime.close();
    process.exit(0);
  };
  transport.onclose = () => void close();
  process.stdin.on('end', () => void close());
  process.once('SIGTERM', () => void close());
  process.once('SIGINT', () => void close());
  // As the HTTP gateway: SIGHUP re-reads scanners.yaml (without a handler it would end the process).
  runtime.reloadOnSighup();
  await server.connect(transport);
  negotiated.watch(transport);
  runtime.logger.info('nessus-mcp stdio server ready');
}

void main();
