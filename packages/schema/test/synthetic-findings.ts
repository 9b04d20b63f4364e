import type { ComplianceResult, Finding } from '@nessus-mcp/nessus-parser';

/** A finding with every declared field set, overridable per test. */
export function makeFinding(index: number, overrides: Partial<Finding> = {}): Finding {
  return {
    finding_id: `f${index}`,
    index,
    host: '10.0.0.1',
    host_index: 0,
    host_ip: '10.0.0.1',
    host_fqdn: 'web1.example.com',
    netbios_name: null,
    operating_system: 'Linux Kernel 5.10',
    port: 443,
    protocol: 'tcp',
    svc_name: 'www',
    plugin_id: 10000 + index,
    plugin_name: `Plugin ${index}`,
    plugin_family: 'General',
    severity: 0,
    risk_factor: 'None',
    cve: [],
    cvss_score: null,
    cvss_version: null,
    cvss_base_score: null,
    cvss3_base_score: null,
    cvss4_base_score: null,
    exploit_available: null,
    synopsis: 'A synopsis.',
    description: 'A description.',
    solution: 'A solution.',
    plugin_output: null,
    cisa_known_exploited: null,
    compliance: null,
    ...overrides,
  };
}

export function makeCompliance(result: string, checkName = 'Ensure something'): ComplianceResult {
  return {
    check_name: checkName,
    check_id: 'abc123',
    audit_file: 'CIS_Linux.audit',
    result,
    actual_value: 'x',
    policy_value: 'y',
    info: null,
    solution: null,
    reference: null,
    see_also: null,
    other: {},
  };
}

/** A small scan covering the cases filters and sort must tell apart. */
export function sampleFindings(): Finding[] {
  return [
    makeFinding(0, {
      severity: 4,
      cvss_score: 10,
      cvss3_base_score: 10,
      cve: ['CVE-2021-44228', 'CVE-2021-45046'],
      exploit_available: true,
      plugin_name: 'Apache Log4j RCE',
      port: 8080,
    }),
    makeFinding(1, { severity: 3, cvss_score: 7.5, cve: ['CVE-2014-0160'], exploit_available: false, plugin_name: 'OpenSSL Heartbleed' }),
    makeFinding(2, {
      host: '10.0.1.12',
      host_ip: '10.0.1.12',
      host_fqdn: 'db.example.com',
      severity: 2,
      cvss_score: 5,
      port: 5432,
      plugin_name: 'PostgreSQL weak config',
    }),
    makeFinding(3, { host: 'fe80::1', host_ip: 'fe80::1', host_fqdn: null, severity: 0, port: 0, protocol: 'icmp', plugin_name: 'ICMP Timestamp' }),
    makeFinding(4, {
      host: 'scanner.local',
      host_ip: null,
      host_fqdn: null,
      severity: 1,
      cvss_score: 2.6,
      plugin_name: 'SSH weak MAC',
      port: 22,
      svc_name: 'ssh',
    }),
    makeFinding(5, { severity: 3, cvss_score: 9.8, cve: ['CVE-2023-1234'], plugin_name: 'Apache httpd overflow', port: 80 }),
    makeFinding(6, {
      severity: 0,
      plugin_id: 21157,
      plugin_name: 'Unix Compliance Checks',
      compliance: makeCompliance('FAILED', 'Ensure SSH root login is disabled'),
    }),
    makeFinding(7, { severity: 0, plugin_id: 21157, plugin_name: 'Unix Compliance Checks', compliance: makeCompliance('PASSED') }),
    makeFinding(8, { host: '10.0.0.1', severity: 3, cvss_score: null, plugin_name: 'No score', port: 443 }),
  ];
}
