import type { IncomingMessage } from 'node:http';
import { AppError, type Logger } from '@nessus-mcp/core';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildMcpServer, mcpAuthInfo } from '../mcp/build-mcp-server.js';
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

const MAX_REMEMBERED_HOSTS = 256;

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
 * Servers with every tool, resource and prompt registered, kept for the next request: building
 * one took about a tenth of a status call's CPU. A server serves one request at a time (the SDK
 * allows one transport per server) and keeps nothing of its caller, who comes with each request
 * (`mcpAuthInfo`). What the SDK keeps of a client's initialize (its capabilities) is not read by
 * any handler here.
 */
class McpServerPool {
  private readonly idle: McpServer[] = [];

  constructor(
    private readonly build: () => McpServer,
    private readonly maxIdle = 64,
  ) {}

  acquire(): McpServer {
    return this.idle.pop() ?? this.build();
  }

  /** Back to the pool once its transport closed; past `maxIdle` idle servers it is dropped. */
  release(server: McpServer): void {
    if (!server.isConnected() && this.idle.length < this.maxIdle) this.idle.push(server);
  }
}

/**
 * POST /mcp: a transport per request (stateless Streamable HTTP; the SDK refuses to reuse a
 * stateless transport) connected to a server from the pool. Host and Origin are checked first: a web page on an
 * attacker's domain resolving to 127.0.0.1 (DNS rebinding) must not reach the tools.
 */
export const mcpPlugin: FastifyPluginAsync<McpPluginOptions> = async (app, options) => {
  const hosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));

  // A gateway sees a handful of distinct Host headers: each one's verdict is kept rather than
  // parsed per request (bounded, so a client cycling Host values cannot grow it).
  const hostVerdicts = new Map<string, boolean>();
  const hostAllowed = (header: string | undefined): boolean => {
    if (header === undefined) return false;
    let allowed = hostVerdicts.get(header);
    if (allowed === undefined) {
      const host = hostnameOf(header);
      allowed = host !== null && hosts.has(host);
      if (hostVerdicts.size >= MAX_REMEMBERED_HOSTS) hostVerdicts.clear();
      hostVerdicts.set(header, allowed);
    }
    return allowed;
  };
  app.addHook('onRequest', (request, _reply, done) => {
    if (!hostAllowed(request.headers.host)) {
      done(new AppError('forbidden', `Host '${request.headers.host ?? ''}' is not allowed for /mcp (set GATEWAY_ALLOWED_HOSTS to add it)`));
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase()) && !hosts.has(originHostname(origin))) {
      done(new AppError('forbidden', `Origin '${origin}' is not allowed for /mcp (set GATEWAY_ALLOWED_ORIGINS to add it)`));
      return;
    }
    done();
  });
  app.addHook('onRequest', app.requireAuth());
  const servers = new McpServerPool(() =>
    buildMcpServer(options.services, {
      logger: app.log as unknown as Logger,
      onToolCall: (tool, outcome, seconds) => options.metrics.observeTool(tool, outcome, seconds),
    }),
  );

  // Authentication only here: each tool and resource checks its own scope (buildMcpServer).
  app.post('/mcp', { config: { scope: 'authenticated' } }, async (request, reply) => {
    const logger = request.log as unknown as Logger;
    if (!request.principal) throw new AppError('unauthorized', 'no authenticated client');
    if (Array.isArray(request.body)) {
      // JSON-RPC batches are refused rather than counted call by call: protocol revision
      // 2025-06-18 removed them, and a batch would let one rate-limited request carry hundreds
      // of tool calls. Every client of a current revision sends one message per request.
      return reply.status(400).send({
        jsonrpc: '2.0',
        error: { code: -32600, message: 'JSON-RPC batches are not supported: send one message per request (MCP protocol 2025-06-18 removed batching).' },
        id: null,
      });
    }
    // Stateless: this request's server never saw the initialize, but a client sends the version it
    // negotiated on every later request (the transport refuses an unsupported one).
    const caller = {
      principal: request.principal,
      traceId: request.id,
      logger,
      protocolVersion: protocolVersionOfHeader(request.headers['mcp-protocol-version']),
    };
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = mcpAuthInfo(request.tokenId ?? '', caller);
    const server = servers.acquire();
    // JSON responses rather than SSE: every tool answers in one message, and JSON is cheaper per call.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      // A response cut short (the client went away) may leave a handler running: that server is dropped.
      const finished = reply.raw.writableFinished;
      void transport.close().then(() => (finished ? servers.release(server) : server.close()));
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
  app.get('/mcp', { config: { scope: 'authenticated' } }, async (_request, reply) => methodNotAllowed(reply));
  app.delete('/mcp', { config: { scope: 'authenticated' } }, async (_request, reply) => methodNotAllowed(reply));
};
