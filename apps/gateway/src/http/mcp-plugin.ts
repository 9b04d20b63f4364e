import { AppError, type Logger } from '@nessus-mcp/core';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildMcpServer } from '../mcp/build-mcp-server.js';
import { protocolVersionOfHeader } from '../mcp/protocol-version.js';
import type { GatewayServices } from '../services/gateway-services.js';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface McpPluginOptions {
  services: GatewayServices;
  metrics: GatewayMetrics;
  /** Host names (no port) a request's Host header may name. */
  allowedHosts: readonly string[];
  /**
   * Extra origins a browser-sent request may come from; an origin whose host name is an allowed host
   * passes too, and requests without Origin (non-browser clients) are not affected.
   */
  allowedOrigins: readonly string[];
}

function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return null;
  }
}

function originHostname(origin: string): string {
  try {
    return new URL(origin).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
}

function methodNotAllowed(reply: FastifyReply): FastifyReply {
  // Stateless server: no SSE stream to open (GET) and no session to end (DELETE). The spec asks for
  // 405 here; with a 404 the MCP Inspector intermittently skips tools/list.
  return reply
    .status(405)
    .header('allow', 'POST')
    .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this stateless MCP endpoint only accepts POST.' }, id: null });
}

/**
 * POST /mcp: a fresh McpServer and transport per request (stateless Streamable HTTP; the SDK
 * refuses to reuse a stateless transport). Host and Origin are checked first: a web page on an
 * attacker's domain resolving to 127.0.0.1 (DNS rebinding) must not reach the tools.
 */
export const mcpPlugin: FastifyPluginAsync<McpPluginOptions> = async (app, options) => {
  const hosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));

  app.addHook('onRequest', async (request) => {
    const host = hostnameOf(request.headers.host);
    if (host === null || !hosts.has(host)) {
      throw new AppError('forbidden', `Host '${request.headers.host ?? ''}' is not allowed for /mcp (set GATEWAY_ALLOWED_HOSTS to add it)`);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase()) && !hosts.has(originHostname(origin))) {
      throw new AppError('forbidden', `Origin '${origin}' is not allowed for /mcp (set GATEWAY_ALLOWED_ORIGINS to add it)`);
    }
  });
  app.addHook('onRequest', app.requireAuth({ chargedByRoute: true }));
  // Charged once the body is parsed: each message of a JSON-RPC batch is a call of its own
  // (a batch of 50 tool calls is 50 requests), in one Redis round trip for the whole batch.
  app.addHook('preHandler', async (request, reply) => app.chargeRequests(request, reply, Array.isArray(request.body) ? Math.max(1, request.body.length) : 1));

  app.post('/mcp', async (request, reply) => {
    const logger = request.log as unknown as Logger;
    // Stateless: this request's server never saw the initialize, but a client sends the version it
    // negotiated on every later request (the transport refuses an unsupported one).
    const protocolVersion = protocolVersionOfHeader(request.headers['mcp-protocol-version']);
    const server = buildMcpServer(options.services, {
      logger,
      traceId: request.id,
      protocolVersion: () => protocolVersion,
      onToolCall: (tool, outcome, seconds) => options.metrics.observeTool(tool, outcome, seconds),
    });
    // JSON responses rather than SSE: every tool answers in one message, and JSON is cheaper per call.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    reply.hijack();
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      logger.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null }));
      }
    }
  });
  app.get('/mcp', async (_request, reply) => methodNotAllowed(reply));
  app.delete('/mcp', async (_request, reply) => methodNotAllowed(reply));
};
