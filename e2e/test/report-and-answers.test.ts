import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ARTIFACTS, SystemUnderTest, eventually, runCommand } from './system-under-test.js';

/*
 * The answers within a scan on the live system: a simulator scan of five targets (every fixture
 * host, KEV-listed findings among them), summarised and ordered by risk, and its HTML report
 * rendered by headless Chromium as a person would open it.
 */

const SCREENSHOTS = join(ARTIFACTS, 'screenshots');
const GROUP_BY = ['severity', 'plugin_id', 'host', 'cve', 'port', 'plugin_family', 'solution'] as const;

interface ParsedFinding {
  finding_id: string;
  host: string;
  host_index: number;
  port: number;
  protocol: string;
  plugin_id: number;
  plugin_family: string;
  severity: number;
  cve: string[];
  solution: string | null;
  cisa_known_exploited: string | null;
}

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
}

let system: SystemUnderTest;
let browser: Browser;
let taskId: string;
let findings: ParsedFinding[];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  system = await SystemUnderTest.start({ label: 'report', scanSeconds: 1, attempts: 1 });
  const submitted = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '10.80.0.1-5', name: 'report e2e' }) });
  taskId = ((await submitted.json()) as { task_id: string }).task_id;
  await eventually(
    async () => ((await (await system.api(`/api/v1/tasks/${taskId}`)).json()) as { status: string }).status === 'completed',
    90000,
    'completed scan',
  );
  // The raw export, parsed by the parser's own CLI: an independent count of what the scan found.
  const raw = Buffer.from(await (await system.api(`/api/v1/tasks/${taskId}/report.nessus`)).arrayBuffer());
  const exportPath = join(system.dataDir, 'report-e2e.nessus');
  writeFileSync(exportPath, raw);
  const parsed = await runCommand(process.execPath, ['packages/nessus-parser/dist/bin.js', exportPath], { timeoutMs: 60000 });
  findings = parsed.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ParsedFinding);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}, 180000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

function keysOf(finding: ParsedFinding, groupBy: (typeof GROUP_BY)[number]): (string | number)[] {
  switch (groupBy) {
    case 'severity':
      return [finding.severity];
    case 'plugin_id':
      return [finding.plugin_id];
    case 'host':
      return [finding.host];
    case 'cve':
      return [...new Set(finding.cve)];
    case 'port':
      return [`${finding.port}/${finding.protocol}`];
    case 'plugin_family':
      return [finding.plugin_family];
    case 'solution': {
      const text = (finding.solution ?? '').trim();
      return text === '' ? [] : [text.length > 200 ? `${text.slice(0, 200)}…` : text];
    }
  }
}

describe('answers within a simulator scan', () => {
  it.each(GROUP_BY)('summary by %s counts exactly what the raw export holds', async (groupBy) => {
    const expected = new Map<string | number, number>();
    for (const finding of findings) for (const key of keysOf(finding, groupBy)) expected.set(key, (expected.get(key) ?? 0) + 1);
    const response = await system.api(`/api/v1/tasks/${taskId}/summary?group_by=${groupBy}&top=1000`);
    expect(response.status).toBe(200);
    const summary = (await response.json()) as { total_findings: number; total_groups: number; groups: Array<{ key: string | number; count: number }> };
    expect(summary.total_findings).toBe(findings.length);
    expect(summary.total_groups).toBe(expected.size);
    expect(new Map(summary.groups.map((group) => [group.key, group.count]))).toEqual(expected);
  });

  it('lists every KEV-listed finding on page 1 of sort=risk, before any other', async () => {
    const listed = findings.filter((finding) => finding.cisa_known_exploited !== null);
    expect(listed.length).toBeGreaterThanOrEqual(7);
    const text = await (await system.api(`/api/v1/tasks/${taskId}/results?sort=risk&page_size=40&schema_profile=minimal`)).text();
    const lines = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { type: string; finding_id?: string; cisa_known_exploited?: string | null });
    const page = lines.filter((line) => line.type === 'vulnerability');
    expect(
      page
        .slice(0, listed.length)
        .map((line) => line.finding_id)
        .sort(),
    ).toEqual(listed.map((finding) => finding.finding_id).sort());
    expect(page.slice(listed.length).every((line) => line.cisa_known_exploited === null)).toBe(true);
  });
});

describe('the HTML report', () => {
  it('renders in headless Chromium with its severity chart visible', async () => {
    const view = (await (await system.api(`/api/v1/tasks/${taskId}`)).json()) as { links: { report_html: string } };
    const context = await browser.newContext({ httpCredentials: { username: 'reader', password: system.token }, viewport: { width: 1280, height: 1800 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const response = await page.goto(`${system.gatewayUrl}${view.links.report_html}`);
    expect(response?.status()).toBe(200);
    const chart = page.locator('#severity-chart');
    await chart.waitFor({ state: 'visible', timeout: 15000 });
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(await page.locator('#severity-chart rect').count()).toBe(5);
    expect(await page.locator('text=Top risks').count()).toBe(1);
    const firstRisk = await page.locator('section:has(h2:text("Top risks")) tbody tr').first().textContent();
    expect(firstRisk).toContain('KEV');
    // Self-contained: the page loaded nothing but itself.
    expect(requests).toEqual([`${system.gatewayUrl}${view.links.report_html}`]);
    await page.screenshot({ path: join(SCREENSHOTS, 'report-html.png'), fullPage: true });
    expect(statSync(join(SCREENSHOTS, 'report-html.png')).size).toBeGreaterThan(10_000);
    await context.close();
  }, 60000);

  it('is saved by nessus-mcp report', async () => {
    const output = join(system.dataDir, 'cli-report.html');
    const run = await runCommand(process.execPath, ['packages/client/dist/cli.js', 'report', taskId, '--output', output], {
      env: { ...process.env, NESSUS_MCP_URL: `${system.gatewayUrl}/mcp`, AUTH_TOKEN: system.token },
      timeoutMs: 60000,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`written to ${output}`);
    expect(readFileSync(output, 'utf8')).toContain('<svg id="severity-chart"');
  });
});
