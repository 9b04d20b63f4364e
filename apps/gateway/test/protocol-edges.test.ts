import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, isInitializeRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { operatorPrincipal } from '../src/auth/principal.js';
import { buildMcpServer } from '../src/mcp/build-mcp-server.js';
import { NegotiatedProtocolVersion } from '../src/mcp/protocol-version.js';
import { TOKEN, callTool, connectClient, startTestGateway, type TestGateway } from './support/test-gateway.js';

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
