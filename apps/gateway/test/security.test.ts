import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGatewayServices } from '../src/services/gateway-services.js';
import { SECOND_TOKEN, TOKEN, auth, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const basic = (password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
const MCP_INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

describe('authentication', () => {
  it.each([
    ['POST', '/mcp'],
    ['GET', '/api/v1/tasks'],
    ['POST', '/api/v1/scans/untrusted'],
    ['GET', '/admin/queues'],
    ['GET', '/admin/queues/api/queues'],
    ['GET', '/metrics'],
    ['GET', '/docs'],
    ['GET', '/docs/json'],
  ])('%s %s without a token → 401 with a JSON error body', async (method, path) => {
    const response = await http(gw.url, method, path, method === 'POST' ? { body: {} } : {});
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('missing credentials') } });
    expect(response.text).not.toContain('at ');
  });

  it('refuses a wrong bearer token', async () => {
    const response = await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: 'invalid token' } });
  });

  it('accepts every configured token (rotation)', async () => {
    for (const token of [TOKEN, SECOND_TOKEN]) {
      expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
  });

  it('serves /health and /ready without a token', async () => {
    expect((await http(gw.url, 'GET', '/health')).json()).toMatchObject({ status: 'ok' });
    const ready = await http(gw.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({
      ready: true,
      checks: {
        redis: { ok: true },
        data_dir: { ok: true },
        scanners: [
          expect.objectContaining({ scanner_instance: 'mock1', healthy: true }),
          expect.objectContaining({ scanner_instance: 'mock2', healthy: true }),
        ],
      },
    });
  });

  it('reports not ready (the /ready 503 case) when the data dir cannot be written, naming it', async () => {
    const blocker = join(gw.dataDir, 'not-a-directory');
    writeFileSync(blocker, 'x');
    const services = createGatewayServices({ ...gw.runtime.services.context, dataDir: join(blocker, 'data') });
    const report = await services.checkReadiness();
    expect(report).toMatchObject({
      ready: false,
      status: 'not_ready',
      checks: { redis: { ok: true }, data_dir: { ok: false, message: expect.stringContaining('not writable') } },
    });
  });

  it('lets a browser into Bull Board and Swagger UI with HTTP Basic and the token as password', async () => {
    const board = await http(gw.url, 'GET', '/admin/queues', { headers: basic(TOKEN) });
    expect(board.status).toBe(200);
    expect(board.headers.get('content-type')).toContain('text/html');
    expect(board.text).toContain('nessus-mcp queues');
    const docs = await http(gw.url, 'GET', '/docs/', { headers: basic(TOKEN) });
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
    const challenge = await http(gw.url, 'GET', '/admin/queues', { headers: basic('wrong') });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain('Basic');
  });

  it('does not accept Basic on the API (browsers only get it where they need it)', async () => {
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: basic(TOKEN) })).status).toBe(401);
  });
});

describe('/mcp transport rules', () => {
  it('answers GET and DELETE /mcp with 405 and Allow: POST (stateless server)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await http(gw.url, method, '/mcp', { headers: auth });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    }
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin, but accepts loopback ones', async () => {
    const { request } = await import('node:http');
    const send = (headers: Record<string, string>): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const url = new URL(`${gw.url}/mcp`);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: '/mcp',
            method: 'POST',
            headers: { ...auth, ...MCP_HEADERS, 'content-type': 'application/json', ...headers },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(MCP_INIT));
      });
    const evilHost = await send({ host: 'attacker.example:8835' });
    expect(evilHost.status).toBe(403);
    expect(JSON.parse(evilHost.body)).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining("Host 'attacker.example:8835'") } });
    const evilOrigin = await send({ origin: 'http://attacker.example' });
    expect(evilOrigin.status).toBe(403);
    expect((await send({ host: 'localhost:8835', origin: 'http://localhost:8835' })).status).toBe(200);
    // Verdicts per Host header are remembered, within a bound: a refused one stays refused, and
    // a flood of distinct ones (past the bound) changes no verdict.
    expect((await send({ host: 'attacker.example:8835' })).status).toBe(403);
    for (let i = 0; i < 300; i += 1) expect((await send({ host: `h${i}.attacker.example` })).status).toBe(403);
    expect((await send({ host: '[::1]:8835' })).status).toBe(200);
    expect((await send({ host: 'attacker.example:8835' })).status).toBe(403);
  });

  it('echoes a caller trace id, generates one otherwise, and logs it', async () => {
    const traced = await http(gw.url, 'GET', '/api/v1/tasks', { headers: { ...auth, 'x-trace-id': 'trace-abc-123' } });
    expect(traced.headers.get('x-trace-id')).toBe('trace-abc-123');
    expect(gw.logs.some((line) => line.includes('"trace_id":"trace-abc-123"'))).toBe(true);
    const generated = await http(gw.url, 'GET', '/api/v1/tasks', { headers: { ...auth, 'x-trace-id': 'bad id with spaces\n' } });
    expect(generated.headers.get('x-trace-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bodies over the size limit with a JSON 413', async () => {
    const response = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: auth, body: { targets: '1'.repeat(1_100_000), name: 'x' } });
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});

describe('metrics', () => {
  it('exposes HTTP, per-tool and queue metrics in Prometheus text', async () => {
    await http(gw.url, 'POST', '/mcp', {
      headers: { ...auth, ...MCP_HEADERS },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_tasks', arguments: {} } },
    });
    const response = await http(gw.url, 'GET', '/metrics', { headers: auth });
    expect(response.status).toBe(200);
    expect(response.text).toContain('nessus_mcp_http_requests_total{method="POST",route="/mcp",status="200"}');
    expect(response.text).toMatch(/nessus_mcp_tool_calls_total\{tool="list_tasks",outcome="ok"\} [1-9]/);
    expect(response.text).toContain('nessus_mcp_tool_duration_seconds_bucket');
    expect(response.text).toContain(`nessus_mcp_queue_jobs{pool="${gw.pool}",state="waiting"}`);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a token exceeds its rate', async () => {
    const limited = await startTestGateway({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await http(limited.url, 'GET', '/api/v1/tasks', { headers: auth })).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses).toContain(429);
      const response = await http(limited.url, 'GET', '/api/v1/tasks', { headers: auth });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response.json()).toMatchObject({ error: { code: 'rate_limited' } });
    } finally {
      await limited.close();
    }
  });
});
