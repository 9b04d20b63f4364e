import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ingestExport, postingsOf, resultFiguresOf } from '@nessus-mcp/results';
import { auth, callTool, connectClient, errorBody, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

// A real Nessus export (see packages/nessus-sim/fixtures/NOTICE.md for its origin and licence).
const FIXTURE = fileURLToPath(new URL('../../../packages/nessus-sim/fixtures/savon-noir_python-libnessus__nessus_report_local_3.nessus', import.meta.url));

let gw: TestGateway;
let client: Client;
let week1: string;
let week2: string;

type Line = Record<string, unknown>;
const lines = (text: string): Line[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
const textOf = (result: Awaited<ReturnType<typeof callTool>>): string => (result.content[0]?.type === 'text' ? result.content[0].text : '');

/** The second week: one item gone from the largest host, another one's severity raised. */
function secondWeek(xml: string): string {
  const hosts = [...xml.matchAll(/<ReportHost\b[\s\S]*?<\/ReportHost>/g)].map((match) => match[0]).sort((a, b) => b.length - a.length);
  const host = hosts[0] ?? '';
  const items = [...host.matchAll(/<ReportItem\b[^>]*>[\s\S]*?<\/ReportItem>/g)].map((match) => match[0]);
  const raised = items.find((item) => /severity="[123]"/.test(item)) ?? '';
  const edited = host.replace(items[1] ?? '', '').replace(
    raised,
    raised.replace(/severity="(\d)"/, (_, s: string) => `severity="${Number(s) + 1}"`),
  );
  return xml.replace(host, edited);
}

/** What the worker does when a scan ends: ingest, then completed together with the index entry. */
async function completeLikeTheWorker(id: string, xml: string, completedAt: string): Promise<void> {
  const { tasks, files } = gw.runtime.services.context;
  await files.writeExport(id, (staging) => writeFile(staging, xml));
  const summary = await ingestExport({ files, taskId: id, credentialed: false });
  const fingerprints = await (await files.findFingerprint(id))?.load();
  if (!fingerprints) throw new Error('no fingerprint');
  const task = await tasks.require(id);
  const { applied } = await tasks.update(
    id,
    { status: 'completed', started_at: completedAt, completed_at: completedAt, progress: 100, results_summary: resultFiguresOf(summary) },
    ['queued', 'running'],
    {
      record: {
        task_id: id,
        name: task.name,
        scan_type: task.scan_type,
        targets: task.targets,
        created_at: task.created_at,
        completed_at: completedAt,
        hosts_scanned: summary.hosts_scanned,
        store_expired_at: null,
      },
      postings: postingsOf(fingerprints),
    },
  );
  expect(applied).toBe(true);
}

beforeAll(async () => {
  gw = await startTestGateway();
  client = await connectClient(gw.url);
  const submit = async (name: string): Promise<string> =>
    ((await callTool(client, 'run_untrusted_scan', { targets: '192.168.2.0/24', name })).structuredContent as { task_id: string }).task_id;
  week1 = await submit('week 1');
  week2 = await submit('week 2');
  const xml = readFileSync(FIXTURE, 'utf8');
  await completeLikeTheWorker(week1, xml, '2025-12-01T10:00:00.000Z');
  await completeLikeTheWorker(week2, secondWeek(xml), '2025-12-08T10:00:00.000Z');
});
afterAll(async () => {
  await client.close();
  await gw.close();
});

/** Every vulnerability (or occurrence) line of a listing, following the pagination line's cursor from the first page. */
async function followCursors(
  tool: string,
  first: Record<string, unknown>,
  again: Record<string, unknown>,
  type: string,
): Promise<{ rows: Line[]; cursors: string[] }> {
  const rows: Line[] = [];
  const cursors: string[] = [];
  let page = lines(textOf(await callTool(client, tool, first)));
  for (;;) {
    rows.push(...page.filter((line) => line.type === type));
    const cursor = page.at(-1)?.cursor;
    if (typeof cursor !== 'string') break;
    cursors.push(cursor);
    page = lines(textOf(await callTool(client, tool, { ...again, cursor })));
  }
  return { rows, cursors };
}

describe('compare_scans', () => {
  let fullCounts: unknown;
  let issuedCursor: string;

  it('compares with the previous overlapping scan, over MCP and REST alike', async () => {
    const tool = lines(textOf(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'previous', page_size: 10 })));
    expect(tool[1]).toMatchObject({
      type: 'delta_summary',
      base_task_id: week1,
      task_id: week2,
      counts: { new: 0, fixed: 1, not_rescanned: 0, changed: 1 },
      detail: { base: 'full', task: 'full' },
    });
    fullCounts = tool[1]?.counts;
    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${week2}/delta?base_task_id=${week1}&page_size=10&change=fixed,changed`, { headers: auth });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const body = lines(rest.text);
    expect(body[1]?.counts).toEqual(fullCounts);
    expect(body.filter((line) => line.type === 'vulnerability').map((line) => line.change)).toEqual(['changed', 'fixed']);
  });

  it('pages with the cursor of the pagination line, which keeps the base, the classes and the filters', async () => {
    const query = { change: ['persisting', 'changed'], page_size: 10, sort: 'severity' };
    const all = lines(textOf(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'previous', ...query, page: 0 })));
    const everything = all.filter((line) => line.type === 'vulnerability');
    expect(everything.length).toBeGreaterThan(10);
    const { rows, cursors } = await followCursors(
      'compare_scans',
      { task_id: week2, base_task_id: 'previous', ...query },
      { task_id: week2, base_task_id: week1 },
      'vulnerability',
    );
    expect(rows).toEqual(everything);
    expect(cursors.length).toBe(Math.ceil(everything.length / 10) - 1);
    issuedCursor = cursors[0]!;

    const otherClasses = errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'previous', change: 'new', cursor: issuedCursor }));
    expect(otherClasses.error).toMatchObject({ code: 'invalid_argument', details: { differs: 'change' } });
    const otherBase = errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: week2, cursor: issuedCursor }));
    expect(otherBase.error).toMatchObject({ code: 'invalid_argument', details: { differs: 'base_task_id' } });
    const otherTask = errorBody(await callTool(client, 'compare_scans', { task_id: week1, base_task_id: week2, cursor: issuedCursor }));
    expect(otherTask.error.code).toBe('invalid_argument');
    // A get_scan_results cursor is not a comparison cursor, and the other way round.
    const resultsPage = lines(textOf(await callTool(client, 'get_scan_results', { task_id: week2, page_size: 10 })));
    const resultsCursor = String(resultsPage.at(-1)?.cursor);
    expect(errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: week1, cursor: resultsCursor })).error.code).toBe(
      'invalid_argument',
    );
    expect(errorBody(await callTool(client, 'get_scan_results', { task_id: week2, cursor: issuedCursor })).error.code).toBe('invalid_argument');
    // The REST twin takes the same cursor.
    const rest = await http(gw.url, 'GET', `/api/v1/tasks/${week2}/delta?base_task_id=previous&cursor=${encodeURIComponent(issuedCursor)}`, { headers: auth });
    expect(rest.status).toBe(200);
    expect(lines(rest.text).filter((line) => line.type === 'vulnerability')).toEqual(everything.slice(10, 20));
  });

  it("compares at fingerprint level once the base's full results expired, and says so", async () => {
    // What retention does to a completed task: the fingerprint moves to the history, the rest goes.
    const { tasks, files } = gw.runtime.services.context;
    await files.keepFingerprint(week1);
    await files.remove(week1);
    await tasks.index.markStoreExpired(week1, new Date());
    await tasks.delete(week1);

    const result = lines(
      textOf(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'previous', change: 'fixed', schema_profile: 'full' })),
    );
    expect(result[1]).toMatchObject({ base_task_id: week1, counts: fullCounts, detail: { base: 'fingerprint', task: 'full' } });
    expect(String((result[1]?.notes as string[]).join(' '))).toMatch(/only its fingerprint remains/);
    const fixed = result.find((line) => line.type === 'vulnerability');
    expect(fixed).toMatchObject({ change: 'fixed', host: expect.any(String), plugin_id: expect.any(Number), plugin_name: expect.any(String) });
    // Pages of the full comparison no longer line up with the fingerprint-level one.
    expect(errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'previous', cursor: issuedCursor })).error.code).toBe('conflict');
  });

  it('answers bad input with codes', async () => {
    const unknown = errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'ne_scan_20200101_000000_00000000' }));
    expect(unknown.error.code).toBe('not_found');
    expect(unknown.error.message).toMatch(/retention\.history_days \(400\)/);
    expect(errorBody(await callTool(client, 'compare_scans', { task_id: week2, base_task_id: 'last week' })).error.code).toBe('invalid_argument');
    const queued = ((await callTool(client, 'run_untrusted_scan', { targets: '192.168.2.7', name: 'queued' })).structuredContent as { task_id: string })
      .task_id;
    expect(errorBody(await callTool(client, 'compare_scans', { task_id: queued, base_task_id: week2 })).error.code).toBe('not_ready');
    expect(errorBody(await callTool(client, 'compare_scans', { task_id: week1, base_task_id: 'previous' })).error).toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/no completed scan before/),
    });
  });
});

describe('search_findings', () => {
  it("lists a host's history with a severity line per scan, from full and fingerprint-only scans", async () => {
    const found = lines(textOf(await callTool(client, 'search_findings', { host: '192.168.2.0/24', scope: 'history', page: 0 })));
    const scans = found.filter((line) => line.type === 'host_scan');
    expect(scans.map((line) => line.task_id)).toEqual([week2, week1]);
    const occurrences = found.filter((line) => line.type === 'occurrence');
    expect(occurrences.length).toBe(scans.reduce((sum, line) => sum + Number(line.findings), 0));
    expect(occurrences[0]).toMatchObject({ task_id: week2, times_seen: expect.any(Number), first_seen: '2025-12-01T10:00:00.000Z' });
  });

  it("keeps only each host's latest scan by default, over REST too", async () => {
    const rest = await http(gw.url, 'GET', '/api/v1/findings/search?host=192.168.2.0/24&page=0', { headers: auth });
    const occurrences = lines(rest.text).filter((line) => line.type === 'occurrence');
    expect(new Set(occurrences.map((line) => line.task_id))).toEqual(new Set([week2]));
    const plugin = Number(occurrences[0]?.plugin_id);
    const byPlugin = lines((await http(gw.url, 'GET', `/api/v1/findings/search?plugin_id=${plugin}&scope=history`, { headers: auth })).text);
    expect(byPlugin.filter((line) => line.type === 'occurrence').every((line) => line.plugin_id === plugin)).toBe(true);
  });

  it('pages with cursors, refuses one from another search, and one issued before another scan was indexed', async () => {
    const search = { host: '192.168.2.0/24', scope: 'history' };
    const all = lines(textOf(await callTool(client, 'search_findings', { ...search, page: 0 }))).filter((line) => line.type === 'occurrence');
    expect(all.length).toBeGreaterThan(10);
    const { rows, cursors } = await followCursors('search_findings', { ...search, page_size: 10 }, search, 'occurrence');
    expect(rows).toEqual(all);
    const other = errorBody(await callTool(client, 'search_findings', { host: '192.168.2.1', scope: 'history', cursor: cursors[0] }));
    expect(other.error).toMatchObject({ code: 'invalid_argument', details: { differs: 'search' } });
    const both = errorBody(await callTool(client, 'search_findings', { ...search, page: 2, cursor: cursors[0] }));
    expect(both.error.code).toBe('invalid_argument');

    const week3 = ((await callTool(client, 'run_untrusted_scan', { targets: '192.168.2.0/24', name: 'week 3' })).structuredContent as { task_id: string })
      .task_id;
    await completeLikeTheWorker(week3, readFileSync(FIXTURE, 'utf8'), '2025-12-15T10:00:00.000Z');
    expect(errorBody(await callTool(client, 'search_findings', { ...search, cursor: cursors[0] })).error.code).toBe('conflict');
  });

  it('needs a key and a well-formed CVE', async () => {
    expect(errorBody(await callTool(client, 'search_findings', {})).error.code).toBe('invalid_argument');
    expect(errorBody(await callTool(client, 'search_findings', { cve: 'log4shell' })).error.code).toBe('invalid_argument');
  });
});
