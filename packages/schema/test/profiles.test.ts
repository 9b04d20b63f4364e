import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { PROFILE_FIELDS, projectFinding, resolveProjection } from '../src/profiles.js';
import { makeCompliance, makeFinding } from './synthetic-findings.js';

const finding = makeFinding(3, { severity: 4, cve: ['CVE-1'], cvss_score: 9.8, compliance: makeCompliance('FAILED'), see_also: ['https://x'] });

describe('profiles', () => {
  it('gives minimal exactly the fields the issue lists, after finding_id', () => {
    expect(Object.keys(projectFinding(finding, resolveProjection('minimal')))).toEqual([
      'finding_id',
      'host',
      'port',
      'protocol',
      'plugin_id',
      'severity',
      'cve',
      'cvss_score',
      'exploit_available',
      'cisa_known_exploited',
    ]);
  });

  it('builds summary on minimal and brief on summary, brief being the default', () => {
    expect(PROFILE_FIELDS.summary).toEqual([...PROFILE_FIELDS.minimal, 'plugin_name', 'cvss3_base_score', 'synopsis']);
    expect(PROFILE_FIELDS.brief).toEqual([...PROFILE_FIELDS.summary, 'description', 'solution']);
    expect(resolveProjection()).toEqual({ profile: 'brief', fields: PROFILE_FIELDS.brief });
  });

  it('writes null for a profile field the finding lacks, so every line has the same keys', () => {
    const projected = projectFinding(makeFinding(1), resolveProjection('summary'));
    expect(projected.cvss3_base_score).toBeNull();
    expect(Object.keys(projected)).toEqual(PROFILE_FIELDS.summary);
  });

  it('gives full every field the finding has, compliance included', () => {
    const projected = projectFinding(finding, resolveProjection('full'));
    expect(projected).toEqual(finding);
    expect(resolveProjection('full').fields).toBe('all');
  });
});

describe('custom_fields', () => {
  it('replaces the profile, keeps finding_id first and nests dotted paths', () => {
    const projection = resolveProjection(undefined, ['plugin_name', 'compliance.result', 'compliance.check_name']);
    expect(projection).toEqual({ profile: 'custom', fields: ['finding_id', 'plugin_name', 'compliance.result', 'compliance.check_name'] });
    expect(projectFinding(finding, projection)).toEqual({
      finding_id: 'f3',
      plugin_name: 'Plugin 3',
      compliance: { result: 'FAILED', check_name: 'Ensure something' },
    });
  });

  it('returns a whole object once when both it and one of its paths are asked for', () => {
    const projection = resolveProjection('brief', ['compliance.result', 'compliance']);
    expect(projection.fields).toEqual(['finding_id', 'compliance']);
    expect(projectFinding(finding, projection).compliance).toEqual(finding.compliance);
  });

  it('writes null members for a dotted path on a finding without that object', () => {
    expect(projectFinding(makeFinding(0), resolveProjection(undefined, ['compliance.result']))).toEqual({ finding_id: 'f0', compliance: { result: null } });
  });

  it('lists the valid fields when one is unknown', () => {
    expect(() => resolveProjection(undefined, ['host', 'cvss'])).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining("'cvss'") }) as unknown as Error,
    );
    try {
      resolveProjection(undefined, ['cvss']);
    } catch (error) {
      expect((error as AppError).details?.valid).toContain('cvss_score');
    }
  });

  it('refuses custom_fields together with a non-default profile, or an empty list', () => {
    expect(() => resolveProjection('minimal', ['host'])).toThrow(AppError);
    expect(() => resolveProjection(undefined, [])).toThrow(AppError);
  });

  it('refuses an unknown profile name, listing the four', () => {
    expect(() => resolveProjection('tiny')).toThrow(/minimal, summary, brief, full/);
  });
});
