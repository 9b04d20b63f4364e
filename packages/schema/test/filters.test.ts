import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { applyFilters, compileFilters } from '../src/filters.js';
import { sampleFindings } from './synthetic-findings.js';

const findings = sampleFindings();
const ids = (filters: unknown): string[] => applyFilters(findings, compileFilters(filters)).map((f) => f.finding_id);

function errorOf(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('numeric filters', () => {
  it.each([
    [{ severity: 3 }, ['f1', 'f5', 'f8']],
    [{ severity: '>=3' }, ['f0', 'f1', 'f5', 'f8']],
    [{ severity: '> 3' }, ['f0']],
    [{ severity: '<1' }, ['f3', 'f6', 'f7']],
    [{ severity: '<=1' }, ['f3', 'f4', 'f6', 'f7']],
    [{ severity: '!=0' }, ['f0', 'f1', 'f2', 'f4', 'f5', 'f8']],
    [{ severity: '=4' }, ['f0']],
    [{ severity: '==4' }, ['f0']],
    [{ severity: '2' }, ['f2']],
    [{ severity: [3, 4] }, ['f0', 'f1', 'f5', 'f8']],
    [{ severity: ['4', '<1'] }, ['f0', 'f3', 'f6', 'f7']],
    [{ cvss_score: '>7' }, ['f0', 'f1', 'f5']],
    [{ cvss_score: '<7.5' }, ['f2', 'f4']],
    [{ cvss_score: '7..9' }, ['f1']],
    [{ cvss_score: '7.5..10' }, ['f0', 'f1', 'f5']],
    [{ port: 443 }, ['f1', 'f6', 'f7', 'f8']],
  ])('%j keeps %j', (filters, expected) => {
    expect(ids(filters)).toEqual(expected);
  });

  it('never matches a finding whose score Nessus left empty, even with !=', () => {
    expect(ids({ cvss_score: '!=5' })).toEqual(['f0', 'f1', 'f4', 'f5']);
  });

  it.each([['high'], ['>=x'], [true], ['9..7'], ['']])('refuses %j for a numeric field', (value) => {
    const error = errorOf(() => compileFilters({ severity: value }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('filters.severity');
  });
});

describe('text, list and boolean filters', () => {
  it('matches text as a case-insensitive substring', () => {
    expect(ids({ plugin_name: 'apache' })).toEqual(['f0', 'f5']);
  });

  it('matches a list field when any element contains the value', () => {
    expect(ids({ cve: 'cve-2021-4' })).toEqual(['f0']);
    expect(ids({ cve: ['CVE-2014-0160', 'CVE-2023'] })).toEqual(['f1', 'f5']);
  });

  it('takes booleans as values or as the strings "true"/"false", never matching unknown', () => {
    expect(ids({ exploit_available: true })).toEqual(['f0']);
    expect(ids({ exploit_available: 'false' })).toEqual(['f1']);
    expect(errorOf(() => compileFilters({ exploit_available: 'yes' })).code).toBe('invalid_argument');
  });

  it('reaches compliance details through dotted paths', () => {
    expect(ids({ 'compliance.result': 'failed' })).toEqual(['f6']);
    expect(ids({ 'compliance.check_name': 'root login' })).toEqual(['f6']);
  });

  it('ANDs keys together', () => {
    expect(ids({ severity: '>=3', plugin_name: 'apache', port: 80 })).toEqual(['f5']);
  });
});

describe('host filter', () => {
  it.each([
    ['10.0.0.1', ['f0', 'f1', 'f5', 'f6', 'f7', 'f8']],
    ['10.0.0.0/24', ['f0', 'f1', 'f5', 'f6', 'f7', 'f8']],
    ['10.0.0.0/16', ['f0', 'f1', 'f2', 'f5', 'f6', 'f7', 'f8']],
    ['10.0.1.1', []],
    ['DB.example.com', ['f2']],
    ['db.example', []],
    ['fe80::/64', ['f3']],
    ['fe80:0:0::1', ['f3']],
    ['scanner.local', ['f4']],
  ])('%s selects %j', (host, expected) => {
    expect(ids({ host })).toEqual(expected);
  });

  it('does not treat an address as a prefix of a longer one', () => {
    expect(ids({ host: '10.0.1.1' })).not.toContain('f2');
  });

  it('reports the canonical network of a CIDR in filters_applied', () => {
    expect(compileFilters({ host: '10.0.0.77/24', severity: '>= 3' }).normalised).toEqual({ host: '10.0.0.0/24', severity: '>=3' });
    expect(compileFilters({ host: ['2001:DB8:0::/32', '10.0.0.1'] }).normalised).toEqual({ host: ['2001:db8::/32', '10.0.0.1'] });
  });

  it('refuses a malformed CIDR', () => {
    expect(errorOf(() => compileFilters({ host: '10.0.0.0/33' })).message).toContain('not a valid CIDR');
  });

  it('lets host_ip take a CIDR too', () => {
    expect(ids({ host_ip: '10.0.1.0/24' })).toEqual(['f2']);
  });
});

describe('filter validation', () => {
  it('lists the valid fields when a field is unknown', () => {
    const error = errorOf(() => compileFilters({ cvss: '>7' }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain("unknown field 'cvss'");
    expect(error.message).toContain('cvss_score');
    expect(error.details?.valid).toEqual(expect.arrayContaining(['severity', 'compliance.result']));
  });

  it('refuses filtering on a whole object and points at its dotted fields', () => {
    expect(errorOf(() => compileFilters({ compliance: 'FAILED' })).details?.valid).toContain('compliance.result');
  });

  it('accepts the filters as JSON text and refuses text that is not an object', () => {
    expect(compileFilters('{"severity":">=3"}').normalised).toEqual({ severity: '>=3' });
    expect(errorOf(() => compileFilters('{severity')).code).toBe('invalid_argument');
    expect(errorOf(() => compileFilters('[1]')).code).toBe('invalid_argument');
  });

  it('refuses empty lists, nested values and empty strings', () => {
    expect(errorOf(() => compileFilters({ severity: [] })).code).toBe('invalid_argument');
    expect(errorOf(() => compileFilters({ cve: [['CVE']] })).code).toBe('invalid_argument');
    expect(errorOf(() => compileFilters({ plugin_name: '  ' })).code).toBe('invalid_argument');
  });

  it('compares date fields by day whatever the separator', () => {
    const dated = [
      { ...findings[0]!, plugin_publication_date: '2021/12/10' },
      { ...findings[1]!, plugin_publication_date: '2014/04/08' },
    ];
    const kept = (filters: unknown) => applyFilters(dated, compileFilters(filters)).map((f) => f.finding_id);
    expect(kept({ plugin_publication_date: '>=2020-01-01' })).toEqual(['f0']);
    expect(kept({ plugin_publication_date: '2014-01-01..2014-12-31' })).toEqual(['f1']);
    expect(kept({ plugin_publication_date: '2014/04' })).toEqual(['f1']);
  });

  it('keeps KEV-listed findings with {"cisa_known_exploited": true} and the others with false', () => {
    const listed = [{ ...findings[0]!, cisa_known_exploited: '2021-12-10' }, findings[1]!, { ...findings[2]!, cisa_known_exploited: '2022-03-25' }];
    const kept = (filters: unknown) => applyFilters(listed, compileFilters(filters)).map((f) => f.finding_id);
    expect(kept({ cisa_known_exploited: true })).toEqual(['f0', 'f2']);
    expect(kept({ cisa_known_exploited: 'false' })).toEqual(['f1']);
    expect(kept({ cisa_known_exploited: '>=2022-01-01' })).toEqual(['f2']);
    expect(compileFilters({ cisa_known_exploited: 'TRUE' }).normalised).toEqual({ cisa_known_exploited: true });
  });

  it('filters on VPR and EPSS scores like any number', () => {
    const scored = [
      { ...findings[0]!, vpr_score: 9.4, epss_score: 0.97 },
      { ...findings[1]!, vpr_score: 5.9, epss_score: 0.02 },
    ];
    const kept = (filters: unknown) => applyFilters(scored, compileFilters(filters)).map((f) => f.finding_id);
    expect(kept({ vpr_score: '>=7' })).toEqual(['f0']);
    expect(kept({ epss_score: '<0.5' })).toEqual(['f1']);
  });
});
