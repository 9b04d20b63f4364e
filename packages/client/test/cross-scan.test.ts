import { describe, expect, it } from '@jest/globals';
import { compareArguments, parseDeltaPage, parseSearchPage, searchArguments } from '../src/cross-scan.js';

describe('cross-scan answers in the client', () => {
  it('sends compare_scans and search_findings arguments in snake_case, leaving out what is unset', () => {
    expect(compareArguments('t2', 'previous', { change: ['new'], pageSize: 10, profile: 'minimal' })).toEqual({
      task_id: 't2',
      base_task_id: 'previous',
      change: ['new'],
      page_size: 10,
      schema_profile: 'minimal',
    });
    expect(searchArguments({ cve: 'CVE-2021-44228', scope: 'history' })).toEqual({ cve: 'CVE-2021-44228', scope: 'history' });
  });

  it('reads a delta page: schema, summary with counts, findings with their change, pagination', () => {
    const text = [
      '{"type":"schema","total_vulnerabilities":1,"total_pages":1}',
      '{"type":"delta_summary","base_task_id":"a","task_id":"b","counts":{"new":1,"fixed":0,"not_rescanned":0,"persisting":3,"changed":0},"by_severity":{},"detail":{"base":"full","task":"full"},"notes":[]}',
      '{"type":"vulnerability","change":"new","host":"10.0.0.1","severity":3}',
      '{"type":"pagination","page":1,"has_next":false}',
    ].join('\n');
    const page = parseDeltaPage(text);
    expect(page.summary.counts.persisting).toBe(3);
    expect(page.vulnerabilities[0]?.change).toBe('new');
    expect(page.pagination).toMatchObject({ has_next: false });
    expect(() => parseDeltaPage('{"type":"schema"}')).toThrow(/delta_summary/);
  });

  it('reads a search page with host history lines', () => {
    const page = parseSearchPage(
      '{"type":"schema","total_occurrences":1}\n{"type":"host_scan","task_id":"a"}\n{"type":"occurrence","host":"10.0.0.1","times_seen":2}\n',
    );
    expect(page.hostScans).toHaveLength(1);
    expect(page.occurrences[0]).toMatchObject({ host: '10.0.0.1', times_seen: 2 });
  });
});
