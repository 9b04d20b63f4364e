// The yardstick: a bare stateless MCP SDK server on Fastify with one trivial tool, mounted the same
// way as the gateway (new server + transport per request, JSON responses). Prints its URL on stdout.
import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const json = process.env.YARDSTICK_SSE !== '1';
const app = Fastify({ logger: false });

function buildServer() {
  const server = new McpServer({ name: 'yardstick', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo a value', inputSchema: { value: z.string() } }, async ({ value }) => ({ content: [{ type: 'text', text: value }] }));
  return server;
}

app.post('/mcp', async (request, reply) => {
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
  reply.raw.on('close', () => {
    void transport.close();
    void server.close();
  });
  reply.hijack();
  await server.connect(transport);
  await transport.handleRequest(request.raw, reply.raw, request.body);
});
app.get('/mcp', async (_request, reply) => reply.status(405).header('allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null }));

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${address}/mcp\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
