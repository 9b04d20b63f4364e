import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SystemUnderTest, eventually } from './system-under-test.js';

/*
 * Two scans of the same /26 on a drifting simulator, read the way an analyst would: what changed
 * (compare_scans) and where a CVE is now (search_findings), each checked against the raw exports
 * read independently here.
 */

let system: SystemUnderTest;

type Line = Record<string, unknown>;
const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);

interface RawItem {
  key: string;
  host: string;
  severity: number;
  cves: string[];
}

const attr = (attributes: string, name: string): string => new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1] ?? '';

/** The export's findings, by the contract's identity rule, straight from the XML. */
function rawItems(xml: string): { hosts: Set<string>; items: RawItem[] } {
  const hosts = new Set<string>();
  const items: RawItem[] = [];
  for (const hostMatch of xml.matchAll(/<ReportHost\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/ReportHost>/g)) {
    const body = hostMatch[2] ?? '';
    const host = /<tag name="host-ip">([^<]*)<\/tag>/.exec(body)?.[1] ?? hostMatch[1] ?? '';
    hosts.add(host);
    for (const item of body.matchAll(/<ReportItem\b([^>]*)>([\s\S]*?)<\/ReportItem>/g)) {
      const attributes = item[1] ?? '';
      const check = /<cm:compliance-check-name>([^<]*)</.exec(item[2] ?? '')?.[1] ?? '';
      const key = [host, attr(attributes, 'port'), attr(attributes, 'protocol').toLowerCase(), attr(attributes, 'pluginID'), check].join('|');
      const cves = [...(item[2] ?? '').matchAll(/<cve>([^<]*)<\/cve>/g)].map((match) => (match[1] ?? '').trim().toUpperCase());
      items.push({ key, host, severity: Number(attr(attributes, 'severity')), cves });
    }
  }
  return { hosts, items };
}

function expectedDelta(
  base: ReturnType<typeof rawItems>,
  next: ReturnType<typeof rawItems>,
): Record<'new' | 'fixed' | 'not_rescanned' | 'persisting' | 'changed', number> {
  const counts = { new: 0, fixed: 0, not_rescanned: 0, persisting: 0, changed: 0 };
  const remaining = new Map<string, number[]>();
  for (const item of next.items) remaining.set(item.key, [...(remaining.get(item.key) ?? []), item.severity]);
  for (const item of base.items) {
    const severity = remaining.get(item.key)?.shift();
    if (severity === undefined) counts[next.hosts.has(item.host) ? 'fixed' : 'not_rescanned'] += 1;
    else counts[severity === item.severity ? 'persisting' : 'changed'] += 1;
  }
  for (const list of remaining.values()) counts.new += list.length;
  return counts;
}

async function scan(name: string): Promise<string> {
  const response = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '192.168.50.0/26', name }) });
  const { task_id: taskId } = (await response.json()) as { task_id: string };
  await eventually(
    async () => ((await (await system.api(`/api/v1/tasks/${taskId}`)).json()) as { status: string }).status === 'completed',
    90000,
    `${name} to complete`,
  );
  return taskId;
}

let first: string;
let second: string;

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'cross-scan', scanSeconds: 1, drift: 0.05 });
  first = await scan('week 1');
  second = await scan('week 2');
}, 180000);
afterAll(async () => {
  await system?.stop();
});

describe('answers across scans', () => {
  it('compare_scans counts what an independent comparison of the two exports finds, and there is drift to find', async () => {
    const [baseXml, nextXml] = await Promise.all([first, second].map(async (id) => (await system.api(`/api/v1/tasks/${id}/report.nessus`)).text()));
    const expected = expectedDelta(rawItems(baseXml ?? ''), rawItems(nextXml ?? ''));
    expect(expected.new + expected.fixed + expected.changed).toBeGreaterThan(0);

    const response = await system.api(`/api/v1/tasks/${second}/delta?base_task_id=previous&page_size=10`);
    expect(response.status).toBe(200);
    const lines = parse(await response.text());
    expect(lines[0]).toMatchObject({ type: 'schema' });
    expect(lines[1]).toMatchObject({ type: 'delta_summary', base_task_id: first, task_id: second, counts: expected });

    const client = await system.mcp();
    const result = (await client.callTool({
      name: 'compare_scans',
      arguments: { task_id: second, base_task_id: first, change: ['new', 'changed', 'fixed'], page: 0 },
    })) as { content: { type: string; text: string }[] };
    const listed = parse(result.content[0]?.text ?? '').filter((line) => line.type === 'vulnerability');
    expect(listed).toHaveLength(expected.new + expected.changed + expected.fixed);
    for (const line of listed.filter((l) => l.change === 'changed')) expect(line.previous_severity).not.toBe(line.severity);
    await client.close();
  });

  it('search_findings returns exactly the hosts whose latest covering export names the CVE', async () => {
    const latest = rawItems(await (await system.api(`/api/v1/tasks/${second}/report.nessus`)).text());
    const older = rawItems(await (await system.api(`/api/v1/tasks/${first}/report.nessus`)).text());
    const cveCounts = new Map<string, number>();
    for (const item of [...latest.items, ...older.items]) for (const cve of item.cves) cveCounts.set(cve, (cveCounts.get(cve) ?? 0) + 1);
    const cve = [...cveCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (!cve) throw new Error('the simulator exports name no CVE');
    // Per host, its latest covering scan: the second where it was up, else the first.
    const latestItems = [...latest.items, ...older.items.filter((item) => !latest.hosts.has(item.host))];
    const expectedHosts = new Set(latestItems.filter((item) => item.cves.includes(cve)).map((item) => item.host));

    const lines = parse(await (await system.api(`/api/v1/findings/search?cve=${cve}&page=0`)).text());
    const occurrences = lines.filter((line) => line.type === 'occurrence');
    expect(new Set(occurrences.map((line) => line.host))).toEqual(expectedHosts);
    for (const line of occurrences)
      expect(line).toMatchObject({
        task_id: expect.any(String),
        first_seen: expect.any(String),
        last_seen: expect.any(String),
        times_seen: expect.any(Number),
      });
  });

  it('answers bad input with codes a caller can act on', async () => {
    const unknown = await system.api('/api/v1/tasks/ne_scan_20200101_000000_00000000/delta?base_task_id=previous');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const noEarlier = await system.api(`/api/v1/tasks/${first}/delta?base_task_id=previous`);
    expect(noEarlier.status).toBe(404);
    expect(((await noEarlier.json()) as { error: { message: string } }).error.message).toMatch(/no completed scan before/);
    const queued = (await (
      await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '192.168.51.1', name: 'still running' }) })
    ).json()) as { task_id: string };
    const notReady = await system.api(`/api/v1/tasks/${queued.task_id}/delta?base_task_id=${first}`);
    expect(((await notReady.json()) as { error: { code: string } }).error.code).toBe('not_ready');
    const noKey = await system.api('/api/v1/findings/search');
    expect(noKey.status).toBe(400);
  });
});
