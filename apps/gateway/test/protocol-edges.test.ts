import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, isInitializeRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { operatorPrincipal } from '../src/auth/principal.js';
import { buildMcpServer } from '../src/mcp/build-mcp-server.js';
import { NegotiatedProtocolVersion } from '../src/mcp/protocol-version.js';
import { TOKEN, auth, callTool, connectClient, errorBody, http, startTestGateway, type HttpResult, type TestGateway } from './support/test-gateway.js';

const OLDER = '2025-03-26';
const UNKNOWN_TASK = 'ne_scan_20260101_000000_0000dead';

let gw: TestGateway;
let client: Client;
let queuedId: string;

/** Makes the client ask for `version` in its initialize, as a client built for that revision would. */
function pinProtocolVersion<T extends Transport>(transport: T, version: string): T {
  const send = transport.send.bind(transport);
  transport.send = (message, options) =>
    send(isInitializeRequest(message) ? { ...message, params: { ...message.params, protocolVersion: version } } : message, options);
  return transport;
}

async function httpClient(version?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
  const pinned = new Client({ name: 'protocol-edges', version: '1.0.0' });
  await pinned.connect(version ? pinProtocolVersion(transport, version) : transport);
  return pinned;
}

/** The same server over an in-memory pipe, negotiating as the stdio entry does. */
async function sessionClient(version?: string): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const negotiated = new NegotiatedProtocolVersion();
  const server = buildMcpServer(gw.runtime.services, { logger: gw.runtime.logger, principal: operatorPrincipal(), protocolVersion: () => negotiated.value });
  await server.connect(serverSide);
  negotiated.watch(serverSide);
  const session = new Client({ name: 'protocol-edges-session', version: '1.0.0' });
  await session.connect(version ? pinProtocolVersion(clientSide, version) : clientSide);
  return session;
}

async function readError(reader: Client, uri: string): Promise<McpError> {
  try {
    await reader.readResource({ uri });
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error(`reading ${uri} succeeded`);
}

const linkUris = (result: CallToolResult): string[] => result.content.flatMap((block) => (block.type === 'resource_link' ? [block.uri] : []));

beforeAll(async () => {
  gw = await startTestGateway();
  client = await connectClient(gw.url);
  queuedId = ((await callTool(client, 'run_untrusted_scan', { targets: '192.168.7.1', name: 'protocol edges' })).structuredContent as { task_id: string })
    .task_id;
});
afterAll(async () => {
  await client.close();
  await gw.close();
});

describe('resources/read of something that is not there', () => {
  const cases: Array<[string, () => string]> = [
    ['a task that does not exist', () => `nessus://tasks/${UNKNOWN_TASK}`],
    ['the report of a task that does not exist', () => `nessus://tasks/${UNKNOWN_TASK}/report.nessus`],
    ['a malformed task id', () => 'nessus://tasks/not-a-task'],
    ['a report not written yet', () => `nessus://tasks/${queuedId}/report.nessus`],
    ['a URI no resource template matches', () => `nessus://tasks/${queuedId}/findings`],
  ];

  it.each(cases)('answers -32002 with the URI in data for %s (HTTP)', async (_label, uriOf) => {
    const uri = uriOf();
    const error = await readError(client, uri);
    expect(error.code).toBe(-32002);
    expect(error.data).toMatchObject({ uri });
  });

  it.each(cases)('answers -32002 with the URI in data for %s (session transport)', async (_label, uriOf) => {
    const session = await sessionClient();
    try {
      const uri = uriOf();
      const error = await readError(session, uri);
      expect(error.code).toBe(-32002);
      expect(error.data).toMatchObject({ uri });
    } finally {
      await session.close();
    }
  });

  it('still reads a task that exists', async () => {
    const read = await client.readResource({ uri: `nessus://tasks/${queuedId}` });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ task_id: queuedId, status: 'queued' });
  });
});

describe('resource_link blocks follow the negotiated protocol version', () => {
  it('are sent to a client that negotiated 2025-06-18 or later over HTTP', async () => {
    const latest = await httpClient();
    try {
      expect(linkUris(await callTool(latest, 'get_scan_status', { task_id: queuedId }))).toEqual([`nessus://tasks/${queuedId}`]);
    } finally {
      await latest.close();
    }
  });

  it(`are left out for a ${OLDER} client over HTTP, which finds the URIs in the JSON text`, async () => {
    const older = await httpClient(OLDER);
    try {
      const result = await callTool(older, 'get_scan_status', { task_id: queuedId });
      expect(result.isError).toBeFalsy();
      expect(linkUris(result)).toEqual([]);
      expect(result.content.map((block) => block.type)).toEqual(['text']);
      const first = result.content[0];
      expect(JSON.parse(first?.type === 'text' ? first.text : '{}')).toMatchObject({ resources: { status: `nessus://tasks/${queuedId}` } });
    } finally {
      await older.close();
    }
  });

  it('are sent or left out on a session transport by what its initialize negotiated', async () => {
    const older = await sessionClient(OLDER);
    const latest = await sessionClient();
    try {
      expect(linkUris(await callTool(older, 'get_scan_status', { task_id: queuedId }))).toEqual([]);
      expect(linkUris(await callTool(latest, 'get_scan_status', { task_id: queuedId }))).toEqual([`nessus://tasks/${queuedId}`]);
    } finally {
      await older.close();
      await latest.close();
    }
  });
});

describe('declared capabilities', () => {
  it('declares no logging and promises no list-change notifications', async () => {
    const capabilities = client.getServerCapabilities();
    expect(capabilities).toBeDefined();
    expect(capabilities?.logging).toBeUndefined();
    expect(capabilities?.tools?.listChanged).toBe(false);
    expect(capabilities?.resources?.listChanged).toBe(false);
    expect(capabilities?.prompts?.listChanged).toBe(false);
  });
});

describe("the Streamable HTTP transport's own checks, answered as the SDK's transport answers them", () => {
  const MCP = { ...auth, accept: 'application/json, text/event-stream' };
  const PING = { jsonrpc: '2.0', id: 3, method: 'ping' };

  const rpcError = (result: HttpResult) => result.json<{ jsonrpc: string; id: null; error: { code: number; message: string } }>();

  it('answers a request over plain HTTP with its own id and a JSON body', async () => {
    const result = await http(gw.url, 'POST', '/mcp', { headers: { ...MCP, 'mcp-protocol-version': '2025-06-18' }, body: PING });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(result.json()).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
  });

  it('refuses a client that does not accept both JSON and an event stream (406)', async () => {
    const result = await http(gw.url, 'POST', '/mcp', { headers: { ...auth, accept: 'application/json' }, body: PING });
    expect(result.status).toBe(406);
    expect(rpcError(result)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringContaining('Not Acceptable') } });
  });

  it('refuses a body that is not JSON (415)', async () => {
    const response = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { ...MCP, 'content-type': 'text/plain' }, body: JSON.stringify(PING) });
    expect(response.status).toBe(415);
  });

  it('refuses JSON that is not a JSON-RPC message (-32700)', async () => {
    const result = await http(gw.url, 'POST', '/mcp', { headers: MCP, body: { jsonrpc: '2.0', identifier: 1, method: 7 } });
    expect(result.status).toBe(400);
    expect(rpcError(result).error).toEqual({ code: -32700, message: 'Parse error: Invalid JSON-RPC message' });
  });

  it('refuses an MCP-Protocol-Version it does not support, except on initialize (400)', async () => {
    const result = await http(gw.url, 'POST', '/mcp', { headers: { ...MCP, 'mcp-protocol-version': '1999-01-01' }, body: PING });
    expect(result.status).toBe(400);
    expect(rpcError(result).error).toEqual({ code: -32000, message: expect.stringContaining('Unsupported protocol version: 1999-01-01') });
    const initialize = await http(gw.url, 'POST', '/mcp', {
      headers: { ...MCP, 'mcp-protocol-version': '1999-01-01' },
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'old', version: '1' } },
      },
    });
    expect(initialize.status).toBe(200);
    // The SDK's negotiation: an unknown version is answered with the latest it speaks.
    expect(initialize.json<{ result: { protocolVersion: string } }>().result.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('accepts a notification with 202 and no body', async () => {
    const result = await http(gw.url, 'POST', '/mcp', { headers: MCP, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    expect(result.status).toBe(202);
    expect(result.text).toBe('');
  });

  it('answers concurrent requests of many clients that all use the same id, each with its own answer', async () => {
    const taskIds = Array.from({ length: 24 }, (_, i) => `ne_scan_20260101_000000_0000${(0xa000 + i).toString(16)}`);
    const answers = await Promise.all(
      taskIds.map((task_id) =>
        http(gw.url, 'POST', '/mcp', {
          headers: { ...MCP, 'mcp-protocol-version': '2025-06-18' },
          body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_scan_status', arguments: { task_id } } },
        }),
      ),
    );
    for (const [i, result] of answers.entries()) {
      const body = result.json<{ id: number; result: CallToolResult }>();
      expect(body.id).toBe(1);
      expect(errorBody(body.result).error).toMatchObject({ code: 'not_found', details: { task_id: taskIds[i] } });
    }
  });
});
