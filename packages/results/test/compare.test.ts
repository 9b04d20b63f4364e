import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { parseNessus } from '@nessus-mcp/nessus-parser';
import type { Finding } from '@nessus-mcp/nessus-parser';
import { renderDeltaPage, resolveCompareQuery, selectDelta } from '../src/compare.js';
import type { CompareQueryInput, CompareSide } from '../src/compare.js';
import { diffFingerprints } from '../src/delta.js';
import { postingsOf } from '../src/fingerprints.js';
import type { Fingerprints } from '../src/fingerprints.js';
import { ingestExport } from '../src/ingest.js';
import { ResultStore } from '../src/store.js';
import { fixturePath, taskDirWith, type FixtureTask } from './fixtures.js';

/**
 * The base is a real export; the newer scan is a copy edited the way a rescan differs: one
 * host gone, one item gone, one severity changed, one plugin replaced by another.
 */
function drifted(xml: string): string {
  const hosts = [...xml.matchAll(/<ReportHost\b[\s\S]*?<\/ReportHost>/g)].map((match) => match[0]);
  const gone = hosts[0];
  const edited = [...hosts].sort((a, b) => b.length - a.length)[0] ?? '';
  if (!gone || hosts.length < 3 || gone === edited) throw new Error('fixture needs three hosts');
  let first = edited;
  const items = [...first.matchAll(/<ReportItem\b[^>]*>[\s\S]*?<\/ReportItem>/g)].map((match) => match[0]);
  const raised = items.find((item) => /severity="[123]"/.test(item));
  if (!raised || items.length < 5) throw new Error('fixture host has too few items');
  first = first.replace(
    raised,
    raised.replace(/severity="(\d)"/, (_, s: string) => `severity="${Number(s) + 1}"`),
  );
  first = first.replace(items[1] ?? '', '');
  first = first.replace(items[2] ?? '', (items[2] ?? '').replace(/pluginID="\d+"/, 'pluginID="999999"'));
  return xml.replace(edited, first).replace(gone, '');
}

type Key = string;
const keyOf = (f: Finding): Key => [f.host_ip ?? f.host, f.port, f.protocol, f.plugin_id, f.compliance?.check_name ?? ''].join('|');

async function findingsOf(xml: string): Promise<Finding[]> {
  const out: Finding[] = [];
  for await (const event of parseNessus(Buffer.from(xml), { workers: 0 })) if (event.type === 'finding') out.push(event.finding);
  return out;
}

/** The comparison done independently, from the parser's findings. */
function expectedCounts(base: Finding[], next: Finding[]): Record<'new' | 'fixed' | 'not_rescanned' | 'persisting' | 'changed', number> {
  const counts = { new: 0, fixed: 0, not_rescanned: 0, persisting: 0, changed: 0 };
  const nextHosts = new Set(next.map((f) => f.host_ip ?? f.host));
  const remaining = new Map<Key, number[]>();
  for (const f of next) remaining.set(keyOf(f), [...(remaining.get(keyOf(f)) ?? []), f.severity]);
  for (const f of base) {
    const list = remaining.get(keyOf(f));
    const severity = list?.shift();
    if (severity === undefined) counts[nextHosts.has(f.host_ip ?? f.host) ? 'fixed' : 'not_rescanned'] += 1;
    else counts[severity === f.severity ? 'persisting' : 'changed'] += 1;
  }
  for (const list of remaining.values()) counts.new += list.length;
  return counts;
}

let base: CompareSide;
let next: CompareSide;
let baseFindings: Finding[];
let nextFindings: Finding[];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const a = await taskDirWith('local3');
  const b = await taskDirWith(null);
  cleanups.push(a.cleanup, b.cleanup);
  const baseXml = await readFile(fixturePath('local3'), 'utf8');
  const nextXml = drifted(baseXml);
  await b.files.writeExport(b.taskId, (staging) => writeFile(staging, nextXml));
  await ingestExport({ files: a.files, taskId: a.taskId });
  await ingestExport({ files: b.files, taskId: b.taskId });
  const load = async ({ files, taskId }: FixtureTask): Promise<Fingerprints> => {
    const loaded = await (await files.findFingerprint(taskId))?.load();
    if (!loaded) throw new Error('ingest wrote no fingerprint');
    return loaded;
  };
  base = {
    task_id: 'ne_scan_20251201_143022_aaaaaaaa',
    completed_at: '2025-12-01T15:00:00Z',
    fingerprints: await load(a),
    store: await ResultStore.open(a.storeDir),
  };
  next = {
    task_id: 'ne_scan_20251208_143022_bbbbbbbb',
    completed_at: '2025-12-08T15:00:00Z',
    fingerprints: await load(b),
    store: await ResultStore.open(b.storeDir),
  };
  baseFindings = await findingsOf(baseXml);
  nextFindings = await findingsOf(nextXml);
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function compare(input: CompareQueryInput, sides: [CompareSide, CompareSide] = [base, next]): Promise<Record<string, unknown>[]> {
  const resolved = resolveCompareQuery(input);
  const delta = diffFingerprints(sides[0].fingerprints, sides[1].fingerprints);
  const selection = await selectDelta(sides[0], sides[1], delta, resolved);
  const page = renderDeltaPage(selection, delta, resolved, { base: sides[0], next: sides[1], notes: [] });
  return (await page.toArray()).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('comparing two scans by fingerprint', () => {
  it('ingest writes a fingerprint of every finding and every covered host', () => {
    expect(base.fingerprints.size).toBe(baseFindings.length);
    expect(new Set(base.fingerprints.hostIds)).toEqual(new Set(baseFindings.map((f) => f.host_ip ?? f.host)));
    const keys = postingsOf(base.fingerprints);
    expect(keys.plugins.length).toBe(new Set(baseFindings.map((f) => f.plugin_id)).size);
    expect(new Set(keys.cves)).toEqual(new Set(baseFindings.flatMap((f) => f.cve.map((c) => c.toUpperCase()))));
  });

  it('counts every class exactly as an independent comparison of the two exports', async () => {
    const lines = await compare({ page: 0 });
    const summary = lines.find((line) => line.type === 'delta_summary');
    const expected = expectedCounts(baseFindings, nextFindings);
    expect(summary?.counts).toEqual(expected);
    expect(expected.new).toBe(1);
    expect(expected.changed).toBe(1);
    expect(expected.fixed).toBe(2);
    expect(expected.not_rescanned).toBeGreaterThan(0);
    const vulnerabilities = lines.filter((line) => line.type === 'vulnerability');
    expect(vulnerabilities).toHaveLength(baseFindings.length + expected.new);
    const changed = vulnerabilities.find((line) => line.change === 'changed');
    expect(changed?.previous_severity).toBe(Number(changed?.severity) - 1);
    // New, then changed, then fixed findings come first.
    expect(vulnerabilities.slice(0, 4).map((line) => line.change)).toEqual(['new', 'changed', 'fixed', 'fixed']);
  });

  it('shows a fixed finding with its base-scan fields', async () => {
    const fixed = (await compare({ page: 0, change: 'fixed', schema_profile: 'full' })).filter((line) => line.type === 'vulnerability');
    expect(fixed).toHaveLength(2);
    const ids = new Set(baseFindings.map((f) => f.finding_id));
    for (const line of fixed) expect(ids.has(String(line.finding_id))).toBe(true);
  });

  it('keeps counts over the whole delta while the page and change narrow the listing', async () => {
    const page = await compare({ page: 1, page_size: 10, change: ['persisting'] });
    const [schema, summary] = page;
    expect(summary?.counts).toEqual(expectedCounts(baseFindings, nextFindings));
    expect(page.filter((line) => line.type === 'vulnerability')).toHaveLength(10);
    expect(schema?.total_vulnerabilities).toBe((summary?.counts as Record<string, number>).persisting);
    expect(page.at(-1)).toMatchObject({ type: 'pagination', page: 1, has_next: true, next_page: 2 });
  });

  it('applies filters before counting, from the stores or from the fingerprint alone', async () => {
    const full = await compare({ page: 0, filters: { severity: '>=2' }, sort: 'severity' });
    const fingerprintOnly = await compare({ page: 0, filters: { severity: '>=2' }, sort: 'severity' }, [
      { ...base, store: null },
      { ...next, store: null },
    ]);
    expect(fingerprintOnly[1]?.counts).toEqual(full[1]?.counts);
    const severities = full.filter((line) => line.type === 'vulnerability').map((line) => Number(line.severity));
    expect(severities.every((severity) => severity >= 2)).toBe(true);
    expect(severities).toEqual([...severities].sort((a, b) => b - a));
  });

  it('refuses a filter the fingerprint cannot answer once the full store is gone', async () => {
    await expect(compare({ filters: { solution: 'upgrade' } }, [{ ...base, store: null }, next])).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('refuses an unknown change class', () => {
    expect(() => resolveCompareQuery({ change: 'gone' })).toThrow(AppError);
  });

  it('finds every persisting finding when a scan is compared with itself', async () => {
    const lines = await compare({ page: 0 }, [base, base]);
    expect(lines[1]?.counts).toEqual({ new: 0, fixed: 0, not_rescanned: 0, persisting: baseFindings.length, changed: 0 });
  });
});
