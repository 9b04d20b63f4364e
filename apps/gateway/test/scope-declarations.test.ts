/**
 * Scopes are default-deny, so every way in must say who may use it (docs/security.md, "Adding a
 * tool, resource or route"). These tests walk everything the running gateway registered, so a
 * tool, resource, prompt or route added without a scope fails here by name.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SCOPES } from '@nessus-mcp/core';
import { RESOURCE_DEFINITIONS } from '../src/mcp/build-mcp-server.js';
import { TOOL_DEFINITIONS } from '../src/mcp/tool-definitions.js';
import { connectClient, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

const READER = 'declarations-reader-0123456789abcdef';

/** Routes anyone may call without a token, each for a reason (docs/security.md). */
const PUBLIC_ROUTES = new Set([
  'GET /health',
  'GET /ready',
  // RFC 9728: MCP clients read it after a 401 to find where to log in.
  'GET /.well-known/oauth-protected-resource',
  'GET /.well-known/oauth-protected-resource/mcp',
]);

/** Prompts carry no data (fixed instructions around an argument), so any authenticated client may fetch them. */
const OPEN_PROMPTS = ['triage_scan'];

let gw: TestGateway;
beforeAll(async () => {
  const sha = createHash('sha256').update(READER).digest('hex');
  gw = await startTestGateway({ accessYaml: `tokens:\n  - name: reader\n    sha256: ${sha}\n    scopes: [nessus:read]\n` });
});
afterAll(async () => {
  await gw.close();
});

describe('every tool, resource and prompt declares its scope', () => {
  it('each tool the server lists has a definition with one of the scopes', async () => {
    const client = await connectClient(gw.url);
    try {
      const listed = (await client.listTools()).tools.map((tool) => tool.name);
      const declared = new Map(TOOL_DEFINITIONS.map((tool) => [tool.name, tool.scope]));
      const undeclared = listed.filter((name) => !(SCOPES as readonly string[]).includes(declared.get(name) ?? ''));
      expect(undeclared).toEqual([]);
      expect(listed.length).toBeGreaterThanOrEqual(9);
    } finally {
      await client.close();
    }
  });

  it('each resource template the server lists has a definition with one of the scopes', async () => {
    const client = await connectClient(gw.url);
    try {
      const listed = (await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
      const declared = new Map(RESOURCE_DEFINITIONS.map((resource) => [resource.uriTemplate, resource.scope]));
      expect(listed.filter((uri) => !(SCOPES as readonly string[]).includes(declared.get(uri) ?? ''))).toEqual([]);
      expect(listed.length).toBe(RESOURCE_DEFINITIONS.length);
    } finally {
      await client.close();
    }
  });

  it('the only prompts are the ones known to carry no data', async () => {
    const client = await connectClient(gw.url);
    try {
      expect((await client.listPrompts()).prompts.map((prompt) => prompt.name).sort()).toEqual(OPEN_PROMPTS);
    } finally {
      await client.close();
    }
  });
});

describe('every route declares its scope', () => {
  it('each registered route refuses a request without a token, unless it is one of the public ones', async () => {
    const open: string[] = [];
    for (const route of gw.gateway.routes) {
      const name = `${route.method} ${route.url}`;
      if (PUBLIC_ROUTES.has(name) || route.method === 'HEAD') continue;
      const response = await http(gw.url, route.method, concretePath(route.url));
      if (response.status !== 401) open.push(`${name} answered ${response.status}`);
    }
    expect(open).toEqual([]);
    expect(gw.gateway.routes.length).toBeGreaterThan(20);
  });

  it('no registered route is left without a scope (which would refuse every caller, the operator included)', async () => {
    const undeclared: string[] = [];
    for (const route of gw.gateway.routes) {
      if (PUBLIC_ROUTES.has(`${route.method} ${route.url}`) || route.method === 'HEAD') continue;
      // A read-only client: routes needing more are refused with the scope they need, before any handler runs.
      const response = await http(gw.url, route.method, concretePath(route.url), { headers: { authorization: `Bearer ${READER}` } });
      if (response.text.includes('declares no required scope')) undeclared.push(`${route.method} ${route.url}`);
    }
    expect(undeclared).toEqual([]);
  });
});

/** A path that reaches the route: parameters and wildcards filled with a placeholder. */
function concretePath(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*$/, 'x');
}
