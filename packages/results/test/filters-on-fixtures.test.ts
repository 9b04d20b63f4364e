import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Finding } from '@nessus-mcp/nessus-parser';
import { ingestExport } from '../src/ingest.js';
import { queryResults } from '../src/query.js';
import { ResultStore } from '../src/store.js';
import { TASK, parseFindings, taskDirWith } from './fixtures.js';
import type { FixtureName } from './fixtures.js';

interface Case {
  fixture: FixtureName;
  filters: Record<string, unknown>;
  /** Written independently of the filter code: the brute-force truth over the parser's output. */
  expected: (finding: Finding) => boolean;
}

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : '');
const inSubnet24 = (prefix: string) => (f: Finding) => [f.host, f.host_ip].some((v) => typeof v === 'string' && v.startsWith(prefix));

const CASES: Case[] = [
  { fixture: 'local3', filters: { severity: '>=3' }, expected: (f) => f.severity >= 3 },
  { fixture: 'local3', filters: { severity: [1, '4'] }, expected: (f) => f.severity === 1 || f.severity === 4 },
  { fixture: 'local3', filters: { severity: '!=0', port: '1..1024' }, expected: (f) => f.severity !== 0 && f.port >= 1 && f.port <= 1024 },
  { fixture: 'local3', filters: { cvss_score: '>7' }, expected: (f) => f.cvss_score !== null && f.cvss_score > 7 },
  { fixture: 'local3', filters: { host: '192.168.2.101' }, expected: (f) => f.host === '192.168.2.101' || f.host_ip === '192.168.2.101' },
  { fixture: 'local3', filters: { host: '192.168.2.100/31' }, expected: (f) => ['192.168.2.100', '192.168.2.101'].includes(f.host_ip ?? f.host) },
  { fixture: 'local3', filters: { host: '192.168.0.0/16', severity: '>=2' }, expected: (f) => inSubnet24('192.168.')(f) && f.severity >= 2 },
  { fixture: 'local3', filters: { cve: 'cve-2012' }, expected: (f) => f.cve.some((c) => c.toLowerCase().includes('cve-2012')) },
  { fixture: 'local3', filters: { plugin_name: 'SMB' }, expected: (f) => lower(f.plugin_name).includes('smb') },
  { fixture: 'local3', filters: { description: 'remote host' }, expected: (f) => lower(f.description).includes('remote host') },
  { fixture: 'local3', filters: { plugin_output: 'password' }, expected: (f) => lower(f.plugin_output).includes('password') },
  { fixture: 'tenable', filters: { exploit_available: true }, expected: (f) => f.exploit_available === true },
  { fixture: 'tenable', filters: { exploit_available: 'false' }, expected: (f) => f.exploit_available === false },
  { fixture: 'tenable', filters: { cvss_score: '7..9' }, expected: (f) => f.cvss_score !== null && f.cvss_score >= 7 && f.cvss_score <= 9 },
  { fixture: 'tenable', filters: { xref: 'IAVA' }, expected: (f) => Array.isArray(f.xref) && f.xref.some((x) => x.toLowerCase().includes('iava')) },
  { fixture: 'cvss3', filters: { cvss3_base_score: '>=7' }, expected: (f) => f.cvss3_base_score !== null && f.cvss3_base_score >= 7 },
  { fixture: 'cvss3', filters: { cve: ['cve-2006-1', 'CVE-2007'] }, expected: (f) => f.cve.some((c) => c.includes('CVE-2006-1') || c.includes('CVE-2007')) },
  { fixture: 'compliance', filters: { 'compliance.result': 'FAILED' }, expected: (f) => lower(f.compliance?.result).includes('failed') },
  {
    fixture: 'compliance',
    filters: { 'compliance.result': ['passed', 'warning'] },
    expected: (f) => ['passed', 'warning'].some((r) => lower(f.compliance?.result).includes(r)),
  },
];

const fixtures = [...new Set(CASES.map((c) => c.fixture))];
const stores = new Map<string, ResultStore>();
const parsed = new Map<FixtureName, Finding[]>();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  for (const fixture of fixtures) {
    parsed.set(fixture, await parseFindings(fixture));
    // The same export twice: indexed as usual, and with every text column left unindexed,
    // so the slower record-reading path answers the text filters.
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

async function matchedIds(store: ResultStore, filters: Record<string, unknown>): Promise<string[]> {
  const lines = await (await queryResults(store, { page: 0, custom_fields: ['index'], filters }, TASK)).toArray();
  return lines
    .map((line) => JSON.parse(line) as { type: string; finding_id?: string })
    .filter((line) => line.type === 'vulnerability')
    .map((line) => line.finding_id ?? '');
}

describe.each(['indexed', 'records'])('filters on real exports (%s path)', (mode) => {
  it.each(CASES.map((c) => [c.fixture, JSON.stringify(c.filters), c] as const))(
    '%s %s matches exactly the brute-force selection',
    async (fixture, _label, testCase) => {
      const expected = (parsed.get(fixture) ?? []).filter(testCase.expected).map((f) => f.finding_id);
      const store = stores.get(`${fixture}/${mode}`);
      if (!store) throw new Error('store missing');
      expect(await matchedIds(store, testCase.filters)).toEqual(expected);
      const page = await queryResults(store, { filters: testCase.filters }, TASK);
      expect(page.total_vulnerabilities).toBe(expected.length);
    },
  );
});

describe('the filter table itself', () => {
  it('selects something in every case and not everything in most, so each case can fail', () => {
    const counts = CASES.map((c) => {
      const all = parsed.get(c.fixture) ?? [];
      return { some: all.filter(c.expected).length > 0, all: all.filter(c.expected).length === all.length };
    });
    expect(counts.every((c) => c.some)).toBe(true);
    expect(counts.filter((c) => c.all).length).toBeLessThanOrEqual(1);
  });

  it('keeps text columns out of the index in the records mode', () => {
    const store = stores.get('local3/records');
    expect(store?.manifest.unindexed).toEqual(expect.arrayContaining(['plugin_output', 'description', 'cve', 'plugin_name']));
    expect(stores.get('local3/indexed')?.manifest.unindexed).toEqual(['plugin_output']);
  });
});
