import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import Fastify from 'fastify';
import { AccessControl } from '../src/auth/access-control.js';
import authPlugin from '../src/http/auth-plugin.js';
import { RequestLimiter } from '../src/http/request-limiter.js';
import { createRedisConnection, redisKeys } from '@nessus-mcp/core';
import { RESOURCE_FORBIDDEN } from '../src/mcp/build-mcp-server.js';
import { TOKEN, callTool, connectClient, errorBody, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

const READER = 'reader-token-0123456789abcdef';
const SCANNER = 'scanner-token-0123456789abcdef';
const AGENT = 'agent-token-0123456789abcdefgh';
const ADMIN = 'admin-token-0123456789abcdefgh';
const NARROW = 'narrow-token-0123456789abcdefg';
const LATER = 'later-token-0123456789abcdefgh';

const sha = (token: string): string => createHash('sha256').update(token).digest('hex');
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const basic = (token: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` });

function accessYaml(extra = ''): string {
  return `tokens:
  - name: reader
    sha256: ${sha(READER)}
    scopes: [nessus:read]
  - name: scanner
    sha256: ${sha(SCANNER)}
    scopes: [nessus:scan]
  - name: soc-agent
    sha256: ${sha(AGENT)}
    scopes: [nessus:read, nessus:scan]
  - name: queue-admin
    sha256: ${sha(ADMIN)}
    scopes: [nessus:read, nessus:admin]
  - name: narrow
    sha256: ${sha(NARROW)}
    scopes: [nessus:read, nessus:scan]
    allowed_targets: [10.20.0.0/16]
${extra}`;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ accessYaml: accessYaml() });
});
afterAll(async () => {
  await gw.close();
});

describe('scopes', () => {
  it('a read-only token reads but cannot submit (403 forbidden naming nessus:scan)', async () => {
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: bearer(READER) })).status).toBe(200);
    const refused = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: bearer(READER), body: { targets: '10.0.0.1', name: 'x' } });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({
      error: {
        code: 'forbidden',
        message: expect.stringContaining("needs the 'nessus:scan' scope"),
        details: { required_scope: 'nessus:scan', client: 'reader' },
      },
    });
  });

  it('over MCP a missing scope is an error result naming the scope; allowed tools still work', async () => {
    const client = await connectClient(gw.url, READER);
    try {
      const refused = await callTool(client, 'run_untrusted_scan', { targets: '10.0.0.1', name: 'x' });
      expect(errorBody(refused).error).toMatchObject({ code: 'forbidden', details: { required_scope: 'nessus:scan' } });
      expect((await callTool(client, 'get_queue_status', {})).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('MCP task resources need nessus:read: a scan-only token can neither list templates, list tasks nor read one, and each refusal is audited', async () => {
    const submitted = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: bearer(TOKEN), body: { targets: '10.0.0.3', name: 'resource scope' } });
    const taskId = submitted.json<{ task_id: string }>().task_id;
    const scanOnly = await connectClient(gw.url, SCANNER);
    const reader = await connectClient(gw.url, READER);
    try {
      const refusals = [
        scanOnly.listResourceTemplates(),
        scanOnly.listResources(),
        scanOnly.readResource({ uri: `nessus://tasks/${taskId}` }),
        scanOnly.readResource({ uri: `nessus://tasks/${taskId}/report.nessus` }),
      ];
      for (const refused of refusals) {
        const error = await refused.then(
          () => null,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(McpError);
        expect(error).toMatchObject({ code: RESOURCE_FORBIDDEN, data: { code: 'forbidden', details: { required_scope: 'nessus:read', client: 'scanner' } } });
        expect((error as McpError).message).toContain("needs the 'nessus:read' scope");
      }
      // The same calls with nessus:read work.
      expect((await reader.listResourceTemplates()).resourceTemplates.map((t) => t.name).sort()).toEqual(['task-report', 'task-status']);
      expect((await reader.listResources()).resources.map((r) => r.uri)).toContain(`nessus://tasks/${taskId}`);
      const status = (await reader.readResource({ uri: `nessus://tasks/${taskId}` })).contents[0] as { text: string };
      expect(JSON.parse(status.text)).toMatchObject({ task_id: taskId });
      // An unknown URI is still "not found" for anyone: a refusal only where there is something to refuse.
      await expect(scanOnly.readResource({ uri: 'nessus://elsewhere' })).rejects.toMatchObject({ code: -32002 });
    } finally {
      await scanOnly.close();
      await reader.close();
    }
    const { records } = (await http(gw.url, 'GET', '/api/v1/audit?limit=200', { headers: bearer(ADMIN) })).json<{ records: Array<Record<string, unknown>> }>();
    for (const detail of [
      'MCP resources/templates/list task-status',
      'MCP resources/list task-status',
      'MCP resources/read task-status',
      'MCP resources/read task-report',
    ]) {
      expect(records).toContainEqual(expect.objectContaining({ client: 'scanner', action: 'access.denied', outcome: 'forbidden', detail }));
    }
  });

  it('a scan-only token submits and cancels but cannot read', async () => {
    const submitted = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: bearer(SCANNER), body: { targets: '10.0.0.2', name: 'scan only' } });
    expect(submitted.status).toBe(202);
    const taskId = submitted.json<{ task_id: string }>().task_id;
    expect((await http(gw.url, 'GET', `/api/v1/tasks/${taskId}`, { headers: bearer(SCANNER) })).status).toBe(403);
    expect((await http(gw.url, 'POST', `/api/v1/tasks/${taskId}/cancel`, { headers: bearer(SCANNER) })).status).toBe(200);
  });

  it('a scan token cannot reach Bull Board or its API', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      expect((await http(gw.url, 'GET', path, { headers: basic(SCANNER) })).status).toBe(403);
    }
  });

  it('Bull Board is read-only without nessus:admin: viewing works, editing job data, retrying and pausing are refused', async () => {
    const queue = `scans-${gw.pool}`;
    expect((await http(gw.url, 'GET', '/admin/queues/api/queues', { headers: bearer(AGENT) })).status).toBe(200);
    const edit = await http(gw.url, 'PATCH', `/admin/queues/api/queues/${queue}/some-job/update-data`, {
      headers: bearer(AGENT),
      body: { targets: ['0.0.0.0/0'] },
    });
    expect(edit.status).toBe(403);
    expect(edit.json()).toMatchObject({ error: { code: 'forbidden', details: { required_scope: 'nessus:admin' } } });
    expect((await http(gw.url, 'PUT', `/admin/queues/api/queues/${queue}/retry/failed`, { headers: bearer(AGENT) })).status).toBe(403);
    expect((await http(gw.url, 'PUT', '/admin/queues/api/queues/pause', { headers: bearer(AGENT), body: {} })).status).toBe(403);
  });

  it('an admin token may act in Bull Board, and the action is audited', async () => {
    const queue = `scans-${gw.pool}`;
    const response = await http(gw.url, 'PUT', `/admin/queues/api/queues/${queue}/resume`, { headers: bearer(ADMIN), body: {} });
    expect(response.status).toBeLessThan(300);
    const audit = await http(gw.url, 'GET', '/api/v1/audit?limit=50', { headers: bearer(ADMIN) });
    expect(audit.json<{ records: unknown[] }>().records).toContainEqual(
      expect.objectContaining({ client: 'queue-admin', action: 'admin.queue', outcome: 'ok', detail: `PUT /admin/queues/api/queues/${queue}/resume` }),
    );
  });

  it('AUTH_TOKEN is the operator with every scope', async () => {
    expect((await http(gw.url, 'GET', '/api/v1/audit', { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await http(gw.url, 'PUT', `/admin/queues/api/queues/scans-${gw.pool}/resume`, { headers: bearer(TOKEN), body: {} })).status).toBeLessThan(300);
  });

  it("a client's allowed_targets narrow the global allow-list", async () => {
    expect((await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: bearer(NARROW), body: { targets: '10.20.1.1', name: 'inside' } })).status).toBe(
      202,
    );
    const outside = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: bearer(NARROW), body: { targets: '10.30.0.1', name: 'outside' } });
    expect(outside.status).toBe(422);
    expect(outside.json()).toMatchObject({ error: { code: 'out_of_scope', details: { allowed_targets: ['10.20.0.0/16'] } } });
  });

  it('the audit trail records submissions, refusals and denied scopes with the client name, and needs nessus:admin', async () => {
    expect((await http(gw.url, 'GET', '/api/v1/audit', { headers: bearer(AGENT) })).status).toBe(403);
    const { records } = (await http(gw.url, 'GET', '/api/v1/audit?limit=200', { headers: bearer(ADMIN) })).json<{ records: Array<Record<string, unknown>> }>();
    expect(records).toContainEqual(
      expect.objectContaining({ client: 'narrow', action: 'scan.submit', targets: ['10.20.1.1'], outcome: 'ok', task_id: expect.any(String) }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ client: 'narrow', action: 'scan.submit', targets: ['10.30.0.1'], outcome: 'out_of_scope', task_id: null }),
    );
    expect(records).toContainEqual(expect.objectContaining({ client: 'scanner', action: 'scan.cancel', outcome: 'ok' }));
    expect(records).toContainEqual(
      expect.objectContaining({ client: 'reader', action: 'access.denied', outcome: 'forbidden', detail: 'POST /api/v1/scans/untrusted needs nessus:scan' }),
    );
    expect(records).toContainEqual(expect.objectContaining({ client: 'reader', action: 'access.denied', detail: 'MCP tool run_untrusted_scan' }));
    expect(records).toContainEqual(
      expect.objectContaining({ client: 'soc-agent', action: 'access.denied', detail: expect.stringContaining('update-data needs nessus:admin') }),
    );
    // Newest first, paged by id.
    const page = (await http(gw.url, 'GET', '/api/v1/audit?limit=2', { headers: bearer(ADMIN) })).json<{
      records: Array<{ id: string }>;
      next_before: string;
    }>();
    const next = (await http(gw.url, 'GET', `/api/v1/audit?limit=2&before=${page.next_before}`, { headers: bearer(ADMIN) })).json<{
      records: Array<{ id: string }>;
    }>();
    expect(next.records[0]?.id).toBe(records[2]?.['id']);
  });

  it('SIGHUP reload picks up a new access file and keeps the old one when the new one is invalid', async () => {
    const path = join(gw.dataDir, 'access.yaml');
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: bearer(LATER) })).status).toBe(401);
    writeFileSync(path, accessYaml(`  - name: later\n    sha256: ${sha(LATER)}\n    scopes: [nessus:read]\n`));
    gw.runtime.reloadAccess();
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: bearer(LATER) })).status).toBe(200);
    writeFileSync(path, 'tokens:\n  - name: broken\n    sha256: not-hex\n    scopes: [nessus:everything]\n');
    expect(() => gw.runtime.reloadAccess()).toThrow(/tokens\[0\]\.sha256: must be the 64 hex digits[\s\S]*tokens\[0\]\.scopes\[0\]/);
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: bearer(LATER) })).status).toBe(200);
  });
});

describe('default deny', () => {
  it('refuses every caller, even the operator, on a route that declares no scope', async () => {
    const app = Fastify();
    const redis = createRedisConnection(process.env.REDIS_URL!, 'producer');
    app.addHook('onClose', async () => redis.disconnect());
    const requests = new RequestLimiter(redis, redisKeys('default-deny'), { perSecond: 100, burst: 100 }, { warn: () => undefined });
    await app.register(authPlugin, { access: new AccessControl([TOKEN]), requests });
    await app.register(async (scope) => {
      scope.addHook('onRequest', scope.requireAuth());
      scope.get('/forgot-its-scope', async () => ({ ok: true }));
      scope.get('/declared', { config: { scope: 'nessus:read' } }, async () => ({ ok: true }));
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const refused = await http(url, 'GET', '/forgot-its-scope', { headers: bearer(TOKEN) });
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining('declares no required scope') } });
      expect((await http(url, 'GET', '/declared', { headers: bearer(TOKEN) })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('JSON-RPC batches', () => {
  it('five batches of 100 tool calls in a second get nothing through (batches are refused, not counted once)', async () => {
    const headers = { ...bearer(TOKEN), accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
    const batch = (n: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        jsonrpc: '2.0',
        id: n * 1000 + i,
        method: 'tools/call',
        params: { name: 'run_untrusted_scan', arguments: { targets: '10.77.0.1', name: `batch ${n}-${i}` } },
      }));
    const answers = await Promise.all([0, 1, 2, 3, 4].map((n) => http(gw.url, 'POST', '/mcp', { headers, body: batch(n) })));
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, message: expect.stringContaining('batches are not supported') } });
    }
    const listed = await http(gw.url, 'GET', '/api/v1/tasks?target=10.77.0.1&limit=100', { headers: bearer(TOKEN) });
    expect(listed.json<{ tasks: unknown[] }>().tasks).toHaveLength(0);
  });
});
