import { readFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ingestExport, resultFiguresOf } from '@nessus-mcp/results';
import { auth, callTool, connectClient, errorBody, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

// A real Nessus export (see packages/nessus-sim/fixtures/NOTICE.md for its origin and licence).
const FIXTURE = fileURLToPath(new URL('../../../packages/nessus-sim/fixtures/savon-noir_python-libnessus__nessus_report_local_3.nessus', import.meta.url));

let gw: TestGateway;
let client: Client;
let taskId: string;
let queuedId: string;

/** Does what the worker does once a scan finished: write the export, ingest, mark completed. */
async function completeLikeTheWorker(id: string): Promise<void> {
  const { files } = gw.runtime.services.context;
  await files.writeExport(id, (staging) => copyFile(FIXTURE, staging));
  const summary = await ingestExport({ files, taskId: id, credentialed: false });
  const now = new Date().toISOString();
  await gw.runtime.services.context.tasks.update(id, {
    status: 'completed',
    started_at: now,
    completed_at: now,
    progress: 100,
    results_summary: resultFiguresOf(summary),
  });
}

beforeAll(async () => {
  gw = await startTestGateway();
  client = await connectClient(gw.url);
  const submit = async (targets: string): Promise<string> =>
    ((await callTool(client, 'run_untrusted_scan', { targets, name: 'results test' })).structuredContent as { task_id: string }).task_id;
  taskId = await submit('192.168.1.0/24');
  queuedId = await submit('192.168.2.1');
  await completeLikeTheWorker(taskId);
});
afterAll(async () => {
  await client.close();
  await gw.close();
});

const lines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a completed scan', () => {
  it('reports its summary, authentication verdict and report link in get_scan_status', async () => {
    const status = await callTool(client, 'get_scan_status', { task_id: taskId });
    const view = status.structuredContent as Record<string, unknown>;
    expect(view).toMatchObject({
      status: 'completed',
      progress: 100,
      authentication_status: 'not_applicable',
      resources: { report: `nessus://tasks/${taskId}/report.nessus` },
    });
    expect(view.results_summary).toMatchObject({
      hosts_scanned: expect.any(Number),
      severity_breakdown: expect.objectContaining({ critical: expect.any(Number) }),
    });
    expect(status.content).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'resource_link', uri: `nessus://tasks/${taskId}/report.nessus` })]));
  });

  it('returns the same JSON-NL from the tool and from the REST route', async () => {
    const tool = await callTool(client, 'get_scan_results', { task_id: taskId, page: 1, page_size: 10, schema_profile: 'minimal' });
    const text = tool.content[0]?.type === 'text' ? tool.content[0].text : '';
    const parsed = lines(text);
    expect(parsed[0]).toMatchObject({ type: 'schema', profile: 'minimal' });
    expect(parsed[1]).toMatchObject({ type: 'scan_metadata', task_id: taskId });
    expect(parsed.filter((l) => l.type === 'vulnerability').length).toBeGreaterThan(0);
    expect(parsed[parsed.length - 1]).toMatchObject({ type: 'pagination', page: 1, page_size: 10 });

    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${taskId}/results?page=1&page_size=10&schema_profile=minimal`, { headers: auth });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toContain('application/x-ndjson');
    expect(rest.text).toBe(text);
  });

  it('applies filters given as a JSON string on the REST route exactly as the tool applies the object', async () => {
    const filters = { severity: '>=2' };
    const tool = await callTool(client, 'get_scan_results', { task_id: taskId, filters, page: 0 });
    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${taskId}/results?page=0&filters=${encodeURIComponent(JSON.stringify(filters))}`, { headers: auth });
    const toolText = tool.content[0]?.type === 'text' ? tool.content[0].text : '';
    expect(rest.text).toBe(toolText);
    const vulnerabilities = lines(rest.text).filter((l) => l.type === 'vulnerability');
    expect(vulnerabilities.every((v) => Number(v.severity) >= 2)).toBe(true);
  });

  it.each([
    ['a profile and custom fields together', { schema_profile: 'full', custom_fields: ['host'] }, 'schema_profile=full&custom_fields=host'],
    ['an unknown filter field', { filters: { no_such_field: 1 } }, `filters=${encodeURIComponent('{"no_such_field":1}')}`],
    ['a malformed severity filter', { filters: { severity: '>>3' } }, `filters=${encodeURIComponent('{"severity":">>3"}')}`],
  ])('refuses %s with the same invalid_argument body on both transports', async (_label, args, query) => {
    const tool = errorBody(await callTool(client, 'get_scan_results', { task_id: taskId, ...args }));
    expect(tool.error.code).toBe('invalid_argument');
    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${taskId}/results?${query}`, { headers: auth });
    expect(rest.status).toBe(400);
    expect(rest.json()).toEqual(tool);
  });

  it('streams the raw report as a download', async () => {
    const response = await fetch(`${gw.url}/api/v1/tasks/${taskId}/report.nessus`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${taskId}.nessus"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(FIXTURE))).toBe(true);
  });

  it('serves its status and raw report as MCP resources', async () => {
    const status = await client.readResource({ uri: `nessus://tasks/${taskId}` });
    const statusContent = status.contents[0] as { text: string; mimeType: string };
    expect(statusContent.mimeType).toBe('application/json');
    expect(JSON.parse(statusContent.text)).toMatchObject({ task_id: taskId, status: 'completed' });
    const report = await client.readResource({ uri: `nessus://tasks/${taskId}/report.nessus` });
    expect((report.contents[0] as { text: string }).text).toBe(readFileSync(FIXTURE, 'utf8'));
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(['nessus://tasks/{task_id}', 'nessus://tasks/{task_id}/report.nessus']);
  });

  it('offers a triage_scan prompt that walks from status to the critical findings', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('triage_scan');
    const prompt = await client.getPrompt({ name: 'triage_scan', arguments: { task_id: taskId } });
    const text = prompt.messages[0]?.content.type === 'text' ? prompt.messages[0].content.text : '';
    expect(text).toContain(`get_scan_status with {"task_id": "${taskId}"}`);
    expect(text).toContain('"filters": {"severity": 4}');
  });
});

describe('a scan that has not finished', () => {
  it('answers not_ready (409) for results and the report on both transports', async () => {
    const tool = errorBody(await callTool(client, 'get_scan_results', { task_id: queuedId }));
    expect(tool.error).toMatchObject({ code: 'not_ready', details: { status: 'queued' } });
    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${queuedId}/results`, { headers: auth });
    expect(rest.status).toBe(409);
    expect(rest.json()).toEqual(tool);
    const report = await http(gw.url, 'GET', `/api/v1/tasks/${queuedId}/report.nessus`, { headers: auth });
    expect(report.status).toBe(409);
  });
});

describe('get_scan_status of a completed task', () => {
  it('answers from the task record: the same view once its files are gone, and no file touched', async () => {
    const id = (
      (await callTool(client, 'run_untrusted_scan', { targets: '192.168.3.1', name: 'status without files' })).structuredContent as { task_id: string }
    ).task_id;
    await completeLikeTheWorker(id);
    const before = (await callTool(client, 'get_scan_status', { task_id: id })).structuredContent as Record<string, unknown>;
    expect(before).toMatchObject({ status: 'completed', authentication_status: 'not_applicable', resources: { report: `nessus://tasks/${id}/report.nessus` } });
    expect(before.results_summary).toMatchObject({ hosts_scanned: 3, total_vulnerabilities: expect.any(Number), file_size_kb: expect.any(Number) });

    // Gone from under the gateway (as an operator might clean DATA_DIR): a status read must not notice.
    const { files } = gw.runtime.services.context;
    await files.remove(id);
    const touched: string[] = [];
    const spied = files as unknown as Record<string, unknown>;
    const methods = ['exportSize', 'openExport', 'writeExport', 'replaceResultStore', 'resultStoreDirectory', 'readSummary', 'remove'] as const;
    for (const name of methods) {
      const original = spied[name] as (...args: unknown[]) => unknown;
      spied[name] = (...args: unknown[]) => {
        touched.push(name);
        return original.apply(files, args);
      };
    }
    try {
      const after = (await callTool(client, 'get_scan_status', { task_id: id })).structuredContent as Record<string, unknown>;
      const rest = await http(gw.url, 'GET', `/api/v1/tasks/${id}`, { headers: auth });
      expect({ ...after, updated_at: null }).toEqual({ ...before, updated_at: null });
      expect(rest.json()).toMatchObject({ results_summary: before.results_summary, resources: before.resources });
      expect(touched).toEqual([]);
    } finally {
      for (const name of methods) delete spied[name];
    }
  });
});
