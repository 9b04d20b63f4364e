// The yardstick: the thinnest stateless MCP SDK server on Fastify with JSON responses and one
// trivial tool. It is mounted as the SDK's stateless example and the gateway mount it (a new
// server and transport per request, which the SDK requires), and it keeps per request only what
// the SDK cannot share: the JSON Schema validator (the SDK would build a new Ajv with its formats
// for every server) and the tool's zod object are built once, as the gateway does, so the
// gateway is compared with the least work the SDK allows rather than with an avoidable cost.
// Prints its URL on stdout.
import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';

const app = Fastify({ logger: false });
const validator = new AjvJsonSchemaValidator();
const echoInput = z.object({ value: z.string() });

function buildServer() {
  const server = new McpServer({ name: 'yardstick', version: '1.0.0' }, { jsonSchemaValidator: validator });
  server.registerTool('echo', { description: 'Echo a value', inputSchema: echoInput }, async ({ value }) => ({ content: [{ type: 'text', text: value }] }));
  return server;
}

app.post('/mcp', async (request, reply) => {
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  reply.raw.on('close', () => {
    void transport.close();
    void server.close();
  });
  reply.hijack();
  await server.connect(transport);
  await transport.handleRequest(request.raw, reply.raw, request.body);
});
app.get('/mcp', async (_request, reply) =>
  reply
    .status(405)
    .header('allow', 'POST')
    .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null }),
);

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${address}/mcp\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
