import { AppError, type Logger } from '@nessus-mcp/core';
import {
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildMcpServer, mcpAuthInfo } from '../mcp/build-mcp-server.js';
import { protocolVersionOfHeader } from '../mcp/protocol-version.js';
import { RequestMultiplexer } from '../mcp/request-multiplexer.js';
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

/** A JSON-RPC error that answers the HTTP request itself (no message of it reached the server). */
function refuse(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.status(status).send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

function methodNotAllowed(reply: FastifyReply): FastifyReply {
  // Stateless server: no SSE stream to open (GET) and no session to end (DELETE). The spec asks for
  // 405 here; with a 404 the MCP Inspector intermittently skips tools/list.
  return refuse(reply.header('allow', 'POST'), 405, -32000, 'Method not allowed: this stateless MCP endpoint only accepts POST.');
}

const isJsonMediaType = (header: string | undefined): boolean => header?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';

const UNSUPPORTED_VERSION = (version: string) =>
  `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;

/**
 * POST /mcp: stateless Streamable HTTP with JSON responses, every request answered by one MCP
 * server through a `RequestMultiplexer`. The checks the SDK's transport makes of a request are
 * made here, in its order and with its answers (Accept 406, Content-Type 415, not a JSON-RPC
 * message -32700, an unsupported MCP-Protocol-Version 400). Host and Origin are checked first: a
 * web page on an attacker's domain resolving to 127.0.0.1 (DNS rebinding) must not reach the tools.
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

  const server = buildMcpServer(options.services, {
    logger: app.log as unknown as Logger,
    onToolCall: (tool, outcome, seconds) => options.metrics.observeTool(tool, outcome, seconds),
  });
  server.server.onerror = (error) => app.log.warn({ err: error }, 'MCP protocol error');
  const multiplexer = new RequestMultiplexer();
  await server.connect(multiplexer);
  app.addHook('onClose', async () => server.close());

  // Authentication only here: each tool and resource checks its own scope (buildMcpServer).
  app.post('/mcp', { config: { scope: 'authenticated' } }, async (request, reply) => {
    if (!request.principal) throw new AppError('unauthorized', 'no authenticated client');
    const accept = request.headers.accept;
    if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) {
      return refuse(reply, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonMediaType(request.headers['content-type'])) {
      return refuse(reply, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (Array.isArray(request.body)) {
      // JSON-RPC batches are refused rather than counted call by call: protocol revision
      // 2025-06-18 removed them, and a batch would let one rate-limited request carry hundreds
      // of tool calls. Every client of a current revision sends one message per request.
      return refuse(reply, 400, -32600, 'JSON-RPC batches are not supported: send one message per request (MCP protocol 2025-06-18 removed batching).');
    }
    const parsed = JSONRPCMessageSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, -32700, 'Parse error: Invalid JSON-RPC message');
    const message = parsed.data;
    const version = request.headers['mcp-protocol-version'];
    if (!isInitializeRequest(message) && typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return refuse(reply, 400, -32000, UNSUPPORTED_VERSION(version));
    }
    // Stateless: the server never saw this client's initialize, but a client sends the version it
    // negotiated on every later request.
    const caller = {
      principal: request.principal,
      traceId: request.id,
      logger: request.log as unknown as Logger,
      protocolVersion: protocolVersionOfHeader(version),
    };
    const extra = { authInfo: mcpAuthInfo(request.tokenId ?? '', caller), requestInfo: { headers: request.headers } };
    if (!isJSONRPCRequest(message)) {
      // A notification, or a response to a request this server never sends: accepted, nothing to answer.
      if (isJSONRPCNotification(message)) multiplexer.notify(message, extra);
      return reply.status(202).send();
    }
    const exchange = multiplexer.request(message, extra);
    // A client that hangs up first: the server is told, and its handler's signal aborts.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) exchange.abandon();
    });
    // JSON rather than SSE: every tool answers in one message, and JSON is cheaper per call.
    return reply.type('application/json').send(JSON.stringify(await exchange.answer));
  });
  app.get('/mcp', { config: { scope: 'authenticated' } }, async (_request, reply) => methodNotAllowed(reply));
  app.delete('/mcp', { config: { scope: 'authenticated' } }, async (_request, reply) => methodNotAllowed(reply));
};
