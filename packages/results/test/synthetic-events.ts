import type { Finding, HostInfo, ParseEvent } from '@nessus-mcp/nessus-parser';

export interface SyntheticItem {
  plugin_id: number;
  severity?: number;
  plugin_output?: string;
  plugin_name?: string;
}

function host(index: number, name: string): HostInfo {
  return {
    index,
    occurrence: 0,
    name,
    host_ip: name,
    host_fqdn: null,
    netbios_name: null,
    operating_system: null,
    mac_address: null,
    host_start: null,
    host_end: null,
    credentialed_scan: null,
    cpe: [],
    properties: {},
  };
}

/** Parse events for hosts with the given items, in the order the parser yields them. */
export async function* syntheticEvents(
  hosts: Record<string, SyntheticItem[]>,
  hooks: { afterFinding?: (count: number) => Promise<void> | void } = {},
): AsyncGenerator<ParseEvent> {
  yield {
    type: 'scan',
    scan: { report_name: 'synthetic', policy_name: null, report_type: null, plugin_count: null, preferences: {}, targets: Object.keys(hosts) },
  };
  let index = 0;
  const bySeverity = { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 };
  const names = Object.keys(hosts);
  for (const [hostIndex, name] of names.entries()) {
    yield { type: 'host', host: host(hostIndex, name) };
    for (const item of hosts[name] ?? []) {
      const severity = item.severity ?? 0;
      const finding: Finding = {
        finding_id: `s${index}`,
        index,
        host: name,
        host_index: hostIndex,
        host_ip: name,
        host_fqdn: null,
        netbios_name: null,
        operating_system: null,
        port: 0,
        protocol: 'tcp',
        svc_name: 'general',
        plugin_id: item.plugin_id,
        plugin_name: item.plugin_name ?? `Plugin ${item.plugin_id}`,
        plugin_family: 'Settings',
        severity,
        risk_factor: null,
        cve: [],
        cvss_score: null,
        cvss_version: null,
        cvss_base_score: null,
        cvss3_base_score: null,
        cvss4_base_score: null,
        exploit_available: null,
        synopsis: null,
        description: null,
        solution: null,
        plugin_output: item.plugin_output ?? null,
        cisa_known_exploited: null,
        compliance: null,
      };
      bySeverity[String(severity) as keyof typeof bySeverity] += 1;
      index += 1;
      yield { type: 'finding', finding };
      await hooks.afterFinding?.(index);
    }
  }
  yield { type: 'end', summary: { hosts: names.length, findings: index, by_severity: bySeverity, scan_start: null, scan_end: null, truncated_fields: 0 } };
}
