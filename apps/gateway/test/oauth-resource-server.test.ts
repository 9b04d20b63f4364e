import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { callTool, connectClient, errorBody, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'https://nessus-mcp.example.test/mcp';
const MCP_INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

let jwksServer: Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let jwksRequests = 0;
let gw: TestGateway;

interface TokenOptions {
  scope?: string;
  audience?: string;
  issuer?: string;
  expiresIn?: number;
  notBefore?: number;
  key?: CryptoKey;
  subject?: string;
}

async function accessToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: options.scope ?? 'nessus:read nessus:scan', client_id: 'agent-app' })
    .setProtectedHeader({ alg: 'RS256', kid: options.key ? 'stranger' : 'main' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(options.subject ?? 'alice@example.test')
    .setIssuedAt(now)
    .setNotBefore(now + (options.notBefore ?? 0))
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(options.key ?? signingKey);
}

beforeAll(async () => {
  const main = await generateKeyPair('RS256');
  signingKey = main.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk: JWK = { ...(await exportJWK(main.publicKey)), kid: 'main', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    jwksRequests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  gw = await startTestGateway({ accessYaml: `oauth:\n  issuer: ${ISSUER}\n  audience: ${AUDIENCE}\n  jwks_url: ${jwksUrl}\n  clock_skew_seconds: 30\n` });
});
afterAll(async () => {
  await gw.close();
  await new Promise((resolve) => jwksServer.close(resolve));
});

describe('OAuth 2.1 resource server', () => {
  it('serves the protected-resource metadata without auth (RFC 9728)', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await http(gw.url, 'GET', path);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({
        resource: AUDIENCE,
        authorization_servers: [ISSUER],
        scopes_supported: ['nessus:read', 'nessus:scan', 'nessus:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'nessus-mcp',
      });
    }
  });

  it('a 401 on /mcp points MCP clients at that document', async () => {
    const response = await http(gw.url, 'POST', '/mcp', { headers: MCP_HEADERS, body: MCP_INIT });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata="https://nessus-mcp.example.test/.well-known/oauth-protected-resource"');
  });

  it('accepts a token with the right issuer, audience and scope over MCP and REST', async () => {
    const token = await accessToken();
    const client = await connectClient(gw.url, token);
    try {
      expect((await callTool(client, 'get_queue_status', {})).isError).toBeFalsy();
      const submitted = await callTool(client, 'run_untrusted_scan', { targets: '10.0.0.9', name: 'oauth scan' });
      expect(submitted.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const audit = await http(gw.url, 'GET', '/api/v1/audit', { headers: { authorization: 'Bearer test-token-0123456789abcdef' } });
    expect(audit.json<{ records: unknown[] }>().records).toContainEqual(
      expect.objectContaining({ client: 'oauth:alice@example.test', action: 'scan.submit', outcome: 'ok' }),
    );
  });

  it('takes scopes from the scope claim: a read-only token cannot submit', async () => {
    const client = await connectClient(gw.url, await accessToken({ scope: 'nessus:read openid profile' }));
    try {
      const refused = await callTool(client, 'run_untrusted_scan', { targets: '10.0.0.9', name: 'x' });
      expect(errorBody(refused).error).toMatchObject({ code: 'forbidden', details: { required_scope: 'nessus:scan', client: 'oauth:alice@example.test' } });
    } finally {
      await client.close();
    }
  });

  it.each([
    ['another audience', { audience: 'https://other.example.test/mcp' }, /another audience \(aud\)/],
    ['another issuer', { issuer: 'https://evil.example.test' }, /another issuer \(iss\)/],
    ['an expired token', { expiresIn: -120 }, /expired/],
    ['a token not valid yet beyond the clock skew', { notBefore: 120 }, /not valid yet \(nbf\)/],
    ['a key the issuer does not publish', { key: 'stranger' as const }, /key the issuer does not publish/],
  ])('refuses %s with 401 and resource_metadata', async (_label, options, reason) => {
    const token = await accessToken('key' in options ? { key: strangerKey } : options);
    const response = await http(gw.url, 'POST', '/mcp', { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: MCP_INIT });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(reason) } });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="nessus-mcp", resource_metadata="[^"]+", error="invalid_token"$/);
  });

  it('tolerates a clock skew within clock_skew_seconds', async () => {
    const token = await accessToken({ notBefore: 10 });
    expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('refuses an unsigned token (alg none) and a token signed with a shared secret', async () => {
    const body = Buffer.from(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', scope: 'nessus:admin', exp: Math.floor(Date.now() / 1000) + 300 }),
    ).toString('base64url');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    const hmac = await new SignJWT({ scope: 'nessus:admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    for (const token of [none, hmac]) {
      expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    }
  });

  it('caches the JWKS rather than fetching it per request', async () => {
    const before = jwksRequests;
    const token = await accessToken();
    for (let i = 0; i < 5; i += 1) await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } });
    expect(jwksRequests - before).toBe(0);
  });
});

describe('without OAuth configured', () => {
  it('has no protected-resource document and no resource_metadata in challenges', async () => {
    const plain = await startTestGateway();
    try {
      expect((await http(plain.url, 'GET', '/.well-known/oauth-protected-resource')).status).toBe(404);
      const response = await http(plain.url, 'POST', '/mcp', { headers: MCP_HEADERS, body: MCP_INIT });
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="nessus-mcp"');
    } finally {
      await plain.close();
    }
  });
});
