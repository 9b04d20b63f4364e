import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Finding } from '@nessus-mcp/nessus-parser';
import { compileFilters } from '@nessus-mcp/schema';
import { GROUP_BY_KEYS, groupFindings } from '../src/grouping.js';
import type { GroupBy } from '../src/grouping.js';
import { ingestExport } from '../src/ingest.js';
import { ResultStore } from '../src/store.js';
import { FIXTURES, parseFindings, taskDirWith } from './fixtures.js';
import type { FixtureName } from './fixtures.js';

const FIXTURE_NAMES = Object.keys(FIXTURES) as FixtureName[];
const stores = new Map<string, ResultStore>();
const parsed = new Map<FixtureName, Finding[]>();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  for (const fixture of FIXTURE_NAMES) {
    parsed.set(fixture, await parseFindings(fixture));
    // Indexed as usual, and with every text column left unindexed (the record-reading path).
    for (const [mode, maxDictionaryChars] of [
      ['indexed', undefined],
      ['records', 0],
    ] as const) {
      const { storeDir, files, taskId, cleanup } = await taskDirWith(fixture);
      cleanups.push(cleanup);
      await ingestExport({ files, taskId, maxDictionaryChars });
      stores.set(`${fixture}/${mode}`, await ResultStore.open(storeDir));
    }
  }
});
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

/** The grouping rules, written from the parser's output without the store or its code. */
function keysOf(finding: Finding, groupBy: GroupBy): (string | number)[] {
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
      if (text === '') return [];
      return [text.length > 200 ? `${text.slice(0, 200)}…` : text];
    }
  }
}

function bruteForce(findings: Finding[], groupBy: GroupBy): Map<string | number, { count: number; hosts: Set<number>; maxSeverity: number }> {
  const groups = new Map<string | number, { count: number; hosts: Set<number>; maxSeverity: number }>();
  for (const finding of findings) {
    for (const key of keysOf(finding, groupBy)) {
      const group = groups.get(key) ?? { count: 0, hosts: new Set<number>(), maxSeverity: 0 };
      group.count += 1;
      group.hosts.add(finding.host_index);
      group.maxSeverity = Math.max(group.maxSeverity, finding.severity);
      groups.set(key, group);
    }
  }
  return groups;
}

const cases = FIXTURE_NAMES.flatMap((fixture) =>
  GROUP_BY_KEYS.flatMap(
    (groupBy) =>
      [
        [fixture, groupBy, null],
        [fixture, groupBy, '{"severity": ">=1"}'],
      ] as const,
  ),
);

describe.each(['indexed', 'records'])('group counts on real exports (%s path)', (mode) => {
  it.each(cases)('%s by %s (filters %s) equal a count over the parsed export', async (fixture, groupBy, filters) => {
    const store = stores.get(`${fixture}/${mode}`);
    if (!store) throw new Error('store missing');
    const all = parsed.get(fixture) ?? [];
    const kept = filters === null ? all : all.filter((finding) => finding.severity >= 1);
    const expected = bruteForce(kept, groupBy);
    const summary = await groupFindings(store, compileFilters(filters), groupBy, { top: 100_000 });
    expect(summary.total_findings).toBe(kept.length);
    expect(summary.total_groups).toBe(expected.size);
    expect(new Map(summary.groups.map((group) => [group.key, group.count]))).toEqual(new Map([...expected].map(([key, group]) => [key, group.count])));
    for (const group of summary.groups) {
      expect([group.key, group.hosts, group.max_severity]).toEqual([group.key, expected.get(group.key)?.hosts.size, expected.get(group.key)?.maxSeverity]);
    }
  });
});

describe('group order and shape', () => {
  it('lists groups largest first (ties by severity, then key) and severity groups from critical to info', async () => {
    const store = stores.get('local3/indexed')!;
    const byPlugin = await groupFindings(store, compileFilters(null), 'plugin_id', { top: 1000 });
    for (let i = 1; i < byPlugin.groups.length; i += 1) {
      const [previous, current] = [byPlugin.groups[i - 1]!, byPlugin.groups[i]!];
      expect(previous.count > current.count || (previous.count === current.count && previous.max_severity >= current.max_severity)).toBe(true);
    }
    const bySeverity = await groupFindings(store, compileFilters(null), 'severity', { top: 20 });
    expect(bySeverity.groups.map((group) => group.key)).toEqual([...bySeverity.groups.map((group) => group.key)].sort((a, b) => Number(b) - Number(a)));
    expect(bySeverity.groups.map((group) => group.label)).toEqual(
      bySeverity.groups.map((group) => ['info', 'low', 'medium', 'high', 'critical'][Number(group.key)]),
    );
  });

  it('cuts the list at top but reports how many groups there are', async () => {
    const store = stores.get('tenable/indexed')!;
    const summary = await groupFindings(store, compileFilters(null), 'plugin_id', { top: 3 });
    expect(summary.groups).toHaveLength(3);
    expect(summary.total_groups).toBeGreaterThan(3);
  });

  it('labels plugin groups with the plugin name and reports exploit evidence and VPR as max_risk', async () => {
    const findings = parsed.get('cvss3')!;
    const store = stores.get('cvss3/indexed')!;
    const summary = await groupFindings(store, compileFilters(null), 'plugin_id', { top: 1000 });
    const scored = findings.find((finding) => typeof finding.vpr_score === 'number' && finding.exploit_available === true)!;
    const group = summary.groups.find((candidate) => candidate.key === scored.plugin_id)!;
    expect(group.label).toBe(scored.plugin_name);
    expect(group.max_risk).toMatchObject({ exploit_available: true, vpr_score: scored.vpr_score });
    const plain = summary.groups.find((candidate) => candidate.max_severity === 0)!;
    expect(plain.max_risk).toBeUndefined();
  });

  it('counts each severity of a host when asked, for the report', async () => {
    const store = stores.get('local3/indexed')!;
    const summary = await groupFindings(store, compileFilters(null), 'host', { top: 10, severityCounts: true });
    for (const group of summary.groups) {
      const expected = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      for (const finding of parsed.get('local3')!.filter((f) => f.host === group.key))
        expected[(['info', 'low', 'medium', 'high', 'critical'] as const)[finding.severity]!] += 1;
      expect(group.by_severity).toEqual(expected);
    }
  });
});
