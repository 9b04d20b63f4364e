// The yardstick: the thinnest stateless MCP SDK server on Fastify with JSON responses and one
// trivial tool, mounted as the SDK's stateless example mounts it (a new server and transport per
// request, which the SDK's transport requires). It keeps per request only what the SDK cannot
// share: the JSON Schema validator (the SDK would build a new Ajv with its formats for every
// server) and the tool's zod object are built once, so the gateway is compared with the least
// work the SDK's own HTTP path allows rather than with an avoidable cost. (The gateway does not
// take that path: one server answers all its requests through a RequestMultiplexer.)
//
// With YARDSTICK_ANSWER (a JSON file holding `{ tool, result }`: a tool's listing, outputSchema
// included, and one tools/call result), the server answers that tool with that result instead,
// every call: the same bare SDK path serving the gateway's own answer. Comparing the gateway with
// it tells the gateway's cost from the cost, mostly the client's, of the answer's size.
// Prints its URL on stdout.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';

const app = Fastify({ logger: false });
const validator = new AjvJsonSchemaValidator();
const echoInput = z.object({ value: z.string() });
const answer = process.env.YARDSTICK_ANSWER ? JSON.parse(readFileSync(process.env.YARDSTICK_ANSWER, 'utf8')) : null;

function buildServer() {
  const server = new McpServer({ name: 'yardstick', version: '1.0.0' }, { jsonSchemaValidator: validator });
  server.registerTool('echo', { description: 'Echo a value', inputSchema: echoInput }, async ({ value }) => ({ content: [{ type: 'text', text: value }] }));
  return server;
}

// The tool as the gateway lists it (its JSON Schemas as they are), so a client validates the
// answer against the same outputSchema.
function buildAnswerServer() {
  const server = new Server({ name: 'yardstick-answer', version: '1.0.0' }, { capabilities: { tools: {} }, jsonSchemaValidator: validator });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [answer.tool] }));
  server.setRequestHandler(CallToolRequestSchema, async () => answer.result);
  return server;
}

app.post('/mcp', async (request, reply) => {
  const server = answer ? buildAnswerServer() : buildServer();
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
