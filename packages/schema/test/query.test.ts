import { describe, expect, it } from '@jest/globals';
import { PROFILE_NAMES } from '../src/profiles.js';
import { renderResultLines, resolveResultQuery } from '../src/query.js';
import type { ResultQueryInput } from '../src/query.js';
import { SORT_KEYS } from '../src/sort.js';
import type { ScanFacts, TaskMetadata } from '../src/jsonnl.js';
import { makeFinding } from './synthetic-findings.js';

const task: TaskMetadata = {
  task_id: 'ne_scan_20251201_143022_a1b2c3d4',
  scan_name: 'weekly',
  scan_type: 'untrusted',
  targets: ['10.0.0.0/24'],
  started_at: '2025-12-01T14:30:22Z',
  completed_at: '2025-12-01T15:00:00Z',
};
const facts: ScanFacts = {
  hosts_scanned: 3,
  total_vulnerabilities: 20,
  severity_breakdown: { critical: 5, high: 5, medium: 5, low: 5, info: 5 },
  authentication_status: 'not_applicable',
};
const findings = Array.from({ length: 25 }, (_, i) =>
  makeFinding(i, { severity: i % 5, cvss_score: i % 3 === 0 ? null : (i % 10) + 0.5, port: (i * 37) % 100, host: `10.0.0.${i % 4}`, plugin_id: 50 - (i % 7) }),
);
const render = (input: ResultQueryInput) =>
  renderResultLines(findings, resolveResultQuery(input), task, facts).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('result lines', () => {
  it('opens with schema and scan_metadata lines and closes with pagination', () => {
    const lines = render({ page: 1, page_size: 10, schema_profile: 'minimal', filters: { severity: '>=3' }, sort: 'severity' });
    expect(lines[0]).toEqual({
      type: 'schema',
      profile: 'minimal',
      fields: ['finding_id', 'host', 'port', 'protocol', 'plugin_id', 'severity', 'cve', 'cvss_score', 'exploit_available', 'cisa_known_exploited'],
      filters_applied: { severity: '>=3' },
      sort: 'severity',
      total_vulnerabilities: 10,
      total_pages: 1,
    });
    expect(lines[1]).toEqual({ type: 'scan_metadata', ...task, ...facts });
    expect(lines.slice(2, -1).every((line) => line.type === 'vulnerability' && (line.severity as number) >= 3)).toBe(true);
    expect(lines.at(-1)).toEqual({ type: 'pagination', page: 1, page_size: 10, total_pages: 1, has_next: false, next_page: null, cursor: null });
  });

  it('has no pagination line for page 0', () => {
    const lines = render({ page: 0 });
    expect(lines.filter((line) => line.type === 'vulnerability')).toHaveLength(25);
    expect(lines.some((line) => line.type === 'pagination')).toBe(false);
  });

  it('returns no findings past the last page, with has_next false', () => {
    const lines = render({ page: 9, page_size: 10 });
    expect(lines.filter((line) => line.type === 'vulnerability')).toHaveLength(0);
    expect(lines.at(-1)).toMatchObject({ has_next: false, next_page: null, total_pages: 3 });
  });

  it.each(PROFILE_NAMES.flatMap((profile) => [undefined, ...SORT_KEYS].map((sort) => [profile, sort] as const)))(
    'concatenates every page of profile %s sorted by %s into exactly page 0',
    (profile, sort) => {
      const all = render({ page: 0, schema_profile: profile, sort: sort ?? null }).filter((line) => line.type === 'vulnerability');
      const paged: Record<string, unknown>[] = [];
      for (let page = 1; ; page += 1) {
        const lines = render({ page, page_size: 10, schema_profile: profile, sort: sort ?? null });
        paged.push(...lines.filter((line) => line.type === 'vulnerability'));
        if (lines.at(-1)?.has_next !== true) break;
      }
      expect(paged).toEqual(all);
      expect(new Set(paged.map((line) => line.finding_id)).size).toBe(25);
    },
  );
});
