import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auth, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
});

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, { description?: string }> } }> };
        parameters?: Array<{ name: string; in: string }>;
      }
    >
  >;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  security: unknown[];
}

describe('OpenAPI document', () => {
  it('describes every REST route of the contract from the zod schemas, with bearer security, and nothing else', async () => {
    const response = await http(gw.url, 'GET', '/docs/json', { headers: auth });
    expect(response.status).toBe(200);
    const doc = response.json<OpenApi>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/findings/search',
        '/api/v1/audit',
        '/api/v1/queue',
        '/api/v1/scanners',
        '/api/v1/scans/privileged',
        '/api/v1/scans/trusted',
        '/api/v1/scans/untrusted',
        '/api/v1/tasks',
        '/api/v1/tasks/{task_id}',
        '/api/v1/tasks/{task_id}/cancel',
        '/api/v1/tasks/{task_id}/delta',
        '/api/v1/tasks/{task_id}/findings/{finding_id}',
        '/api/v1/tasks/{task_id}/report.html',
        '/api/v1/tasks/{task_id}/report.nessus',
        '/api/v1/tasks/{task_id}/results',
        '/api/v1/tasks/{task_id}/summary',
        '/api/v1/tasks/{task_id}/results.csv',
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const body = doc.paths['/api/v1/scans/privileged']?.post?.requestBody?.content['application/json']?.schema;
    expect(body?.properties?.elevate_privileges_with?.description).toContain('root');
    expect(body?.properties?.targets?.description).toContain('CIDR');
    for (const path of ['/api/v1/tasks/{task_id}/results', '/api/v1/tasks/{task_id}/results.csv']) {
      expect((doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
        expect.arrayContaining(['filters', 'sort', 'schema_profile', 'cursor', 'page']),
      );
    }
  });
});
