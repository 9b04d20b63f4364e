import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { compareHosts, resolveSort, sortFindings } from '../src/sort.js';
import { sampleFindings } from './synthetic-findings.js';

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
    expect(() => resolveSort('risk')).toThrow(AppError);
    expect(() => resolveSort('risk')).toThrow(/severity, cvss_score, host, plugin_id, port/);
  });
});
