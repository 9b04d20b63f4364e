import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { compareHosts, resolveSort, sortFindings } from '../src/sort.js';
import { makeFinding, sampleFindings } from './synthetic-findings.js';

const ids = (key: string | undefined) => sortFindings(sampleFindings(), resolveSort(key)).map((f) => f.finding_id);

describe('sort', () => {
  it('keeps document order by default', () => {
    expect(ids(undefined)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8']);
  });

  it('puts the most severe first, then the highest CVSS, unknown scores last, ties in document order', () => {
    expect(ids('severity')).toEqual(['f0', 'f5', 'f1', 'f8', 'f2', 'f4', 'f3', 'f6', 'f7']);
  });

  it('orders cvss_score from highest, unknown last', () => {
    expect(ids('cvss_score')).toEqual(['f0', 'f5', 'f1', 'f2', 'f4', 'f3', 'f6', 'f7', 'f8']);
  });

  it('orders ports and plugin ids ascending', () => {
    expect(ids('port')).toEqual(['f3', 'f4', 'f5', 'f1', 'f6', 'f7', 'f8', 'f2', 'f0']);
    expect(ids('plugin_id')).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f8', 'f6', 'f7']);
  });

  it('orders hosts by address (IPv4, then IPv6), then names', () => {
    expect(ids('host')).toEqual(['f0', 'f1', 'f5', 'f6', 'f7', 'f8', 'f2', 'f3', 'f4']);
    expect(['b.example', '10.0.0.10', '::1', '10.0.0.9', 'A.example'].sort(compareHosts)).toEqual(['10.0.0.9', '10.0.0.10', '::1', 'A.example', 'b.example']);
  });

  it('refuses an unknown key, listing the valid ones', () => {
    expect(() => resolveSort('danger')).toThrow(AppError);
    expect(() => resolveSort('danger')).toThrow(/severity, cvss_score, host, plugin_id, port, risk, vpr_score, epss_score, cvss3_base_score/);
  });

  it('orders by risk: KEV-listed first, then malware, exploit, EPSS, VPR, CVSS v3 else v2, severity, unknowns last', () => {
    const findings = [
      makeFinding(0, { severity: 4, cvss3_base_score: 10 }),
      makeFinding(1, { severity: 1, cisa_known_exploited: '2022-03-25' }),
      makeFinding(2, { severity: 3, exploit_available: true, epss_score: 0.2 }),
      makeFinding(3, { severity: 3, exploit_available: true, epss_score: 0.9 }),
      makeFinding(4, { severity: 2, exploited_by_malware: true }),
      makeFinding(5, { severity: 4, cvss_base_score: 9.3 }),
      makeFinding(6, { severity: 4, vpr_score: 5.9 }),
      makeFinding(7, { severity: 0 }),
      makeFinding(8, { severity: 2, cisa_known_exploited: '2021-11-03', epss_score: 0.97 }),
      makeFinding(9, { severity: 3 }),
      makeFinding(10, { severity: 2, exploit_available: false, epss_score: 0.95 }),
    ];
    expect(sortFindings(findings, resolveSort('risk')).map((f) => f.finding_id)).toEqual(['f8', 'f1', 'f4', 'f3', 'f2', 'f10', 'f6', 'f0', 'f5', 'f9', 'f7']);
  });

  it('orders vpr_score, epss_score and cvss3_base_score from highest, unknown last', () => {
    const findings = [
      makeFinding(0, { vpr_score: 3.4, epss_score: 0.1 }),
      makeFinding(1, { vpr_score: 9.0, cvss3_base_score: 7.5 }),
      makeFinding(2, { epss_score: 0.5, cvss3_base_score: 9.8 }),
    ];
    expect(sortFindings(findings, resolveSort('vpr_score')).map((f) => f.finding_id)).toEqual(['f1', 'f0', 'f2']);
    expect(sortFindings(findings, resolveSort('epss_score')).map((f) => f.finding_id)).toEqual(['f2', 'f0', 'f1']);
    expect(sortFindings(findings, resolveSort('cvss3_base_score')).map((f) => f.finding_id)).toEqual(['f2', 'f1', 'f0']);
  });
});
