import { isIP } from 'node:net';
import { FIELD_TYPES } from './fields.js';
import {
  hostNameOfUrl,
  normaliseRiskFactor,
  severityFromRiskFactor,
  splitLines,
  toBoolean,
  toInteger,
  toIsoDate,
  toIsoTimestamp,
  toNumber,
} from './field-values.js';
import { setOwn } from './own-property.js';
import type { ComplianceResult, FieldValue, Finding, HostInfo } from './types.js';

/** A ReportItem as read: its attributes and every child's text, repeats kept in order. */
export interface RawItem {
  attributes: Record<string, string>;
  children: Map<string, string[]>;
  /** `cm:compliance-*` children keyed by local name (`compliance-result`, ...). */
  compliance: Map<string, string> | null;
  truncated: string[];
}

/** Host fields every finding carries. */
export type HostContext = Pick<HostInfo, 'name' | 'host_ip' | 'host_fqdn' | 'netbios_name' | 'operating_system'>;

/** Fields the parser derives; a child element of the same name must not overwrite them. */
const DERIVED = new Set([
  'finding_id',
  'index',
  'host',
  'host_index',
  'host_ip',
  'host_fqdn',
  'netbios_name',
  'operating_system',
  'port',
  'protocol',
  'svc_name',
  'plugin_id',
  'severity',
  'cvss_score',
  'cvss_version',
  'truncated_fields',
]);

/** Children already turned into the fixed fields above. */
const ALREADY_READ = new Set(['risk_factor', 'plugin_name', 'cvss_base_score', 'cvss3_base_score', 'cvss4_base_score', 'cvss', 'cvssv3', 'cvssv4']);

/** Web App Scanning names for the standard CVSS fields. */
const WAS_ALIASES: Readonly<Record<string, string>> = {
  cvss: 'cvss_base_score',
  cvssv3: 'cvss3_base_score',
  cvssv3_vector: 'cvss3_vector',
  cvssv4: 'cvss4_base_score',
  cvssv4_vector: 'cvss4_vector',
};

const COMPLIANCE_FIELDS: ReadonlyArray<readonly [string, keyof Omit<ComplianceResult, 'other'>]> = [
  ['compliance-check-name', 'check_name'],
  ['compliance-check-id', 'check_id'],
  ['compliance-audit-file', 'audit_file'],
  ['compliance-result', 'result'],
  ['compliance-actual-value', 'actual_value'],
  ['compliance-policy-value', 'policy_value'],
  ['compliance-info', 'info'],
  ['compliance-solution', 'solution'],
  ['compliance-reference', 'reference'],
  ['compliance-see-also', 'see_also'],
];
const COMPLIANCE_KNOWN = new Set(COMPLIANCE_FIELDS.map(([element]) => element));

function typedValue(name: string, values: string[]): FieldValue {
  const type = Object.hasOwn(FIELD_TYPES, name) ? FIELD_TYPES[name] : name.startsWith('exploit_framework_') ? 'boolean' : undefined;
  const last = values[values.length - 1];
  switch (type) {
    case 'string[]': {
      const out: string[] = [];
      for (const value of values) {
        if (name === 'see_also') out.push(...splitLines(value));
        else {
          const trimmed = value.trim();
          if (trimmed !== '') out.push(trimmed);
        }
      }
      return out;
    }
    case 'number':
      return toNumber(last);
    case 'boolean':
      return toBoolean(last);
    case 'date':
      return toIsoDate(last);
    case 'string':
      return values.length === 1 ? values[0]! : values.join('\n');
    default:
      // An element Nessus adds tomorrow: kept as text, and as a list if it repeats.
      return values.length === 1 ? values[0]! : values;
  }
}

function complianceOf(elements: Map<string, string>): ComplianceResult {
  const result: ComplianceResult = {
    check_name: null,
    check_id: null,
    audit_file: null,
    result: null,
    actual_value: null,
    policy_value: null,
    info: null,
    solution: null,
    reference: null,
    see_also: null,
    other: {},
  };
  for (const [element, field] of COMPLIANCE_FIELDS) {
    const value = elements.get(element);
    if (value !== undefined) result[field] = field === 'result' || field === 'check_id' ? value.trim() : value;
  }
  for (const [element, value] of elements) {
    if (!COMPLIANCE_KNOWN.has(element)) setOwn(result.other, element.replace(/^compliance-/, ''), value);
  }
  return result;
}

/** Normalises one ReportItem; `finding_id`, `index` and `host_index` are filled in by the caller. */
export function buildFinding(item: RawItem, host: HostContext): Finding {
  const attrs = item.attributes;
  const children = item.children;
  const riskFactor = normaliseRiskFactor(children.get('risk_factor')?.[0]);
  const v2 = toNumber((children.get('cvss_base_score') ?? children.get('cvss'))?.[0]);
  const v3 = toNumber((children.get('cvss3_base_score') ?? children.get('cvssv3'))?.[0]);
  const v4 = toNumber((children.get('cvss4_base_score') ?? children.get('cvssv4'))?.[0]);
  const finding: Finding = {
    finding_id: '',
    index: 0,
    host: host.name,
    host_index: 0,
    host_ip: host.host_ip,
    host_fqdn: host.host_fqdn,
    netbios_name: host.netbios_name,
    operating_system: host.operating_system,
    port: toInteger(attrs.port) ?? 0,
    protocol: (attrs.protocol ?? '').trim().toLowerCase(),
    svc_name: attrs.svc_name ?? '',
    plugin_id: toInteger(attrs.pluginID) ?? 0,
    plugin_name: attrs.pluginName ?? children.get('plugin_name')?.[0] ?? '',
    plugin_family: attrs.pluginFamily ?? '',
    severity: toInteger(attrs.severity) ?? severityFromRiskFactor(riskFactor) ?? 0,
    risk_factor: riskFactor,
    cve: [],
    cvss_score: v4 ?? v3 ?? v2,
    cvss_version: v4 !== null ? '4' : v3 !== null ? '3' : v2 !== null ? '2' : null,
    cvss_base_score: v2,
    cvss3_base_score: v3,
    cvss4_base_score: v4,
    exploit_available: null,
    synopsis: null,
    description: null,
    solution: null,
    plugin_output: null,
    cisa_known_exploited: null,
    compliance: item.compliance === null ? null : complianceOf(item.compliance),
  };
  for (const [rawName, values] of children) {
    if (ALREADY_READ.has(rawName)) continue;
    let name = Object.hasOwn(WAS_ALIASES, rawName) ? WAS_ALIASES[rawName]! : rawName;
    if (name !== rawName && children.has(name)) continue;
    if (name === 'compliance') {
      // Some exports mark audit items with a plain `<compliance>true</compliance>`.
      name = 'compliance_check';
    } else if (DERIVED.has(name)) {
      name = `item_${name}`;
    }
    setOwn(finding, name, typedValue(name, values));
  }
  finding.cisa_known_exploited ??= knownExploitedFromXref(finding.xref);
  if (item.truncated.length > 0) finding.truncated_fields = item.truncated;
  return finding;
}

const KEV_XREF = /^CISA-KNOWN-EXPLOITED:\s*(.+)$/i;

/**
 * Nessus writes a finding's CISA KEV listing either as a `<cisa-known-exploited>` element or,
 * in other plugin feeds, only as an `xref` such as `CISA-KNOWN-EXPLOITED:2021/11/03`.
 */
function knownExploitedFromXref(xref: FieldValue | undefined): string | null {
  if (!Array.isArray(xref)) return null;
  for (const entry of xref) {
    const match = KEV_XREF.exec(entry);
    const date = match ? toIsoDate(match[1]) : null;
    if (date !== null) return date;
  }
  return null;
}

/** Host context from HostProperties (`host-ip`, `HOST_START`, ...), every tag kept as written. */
export function buildHost(name: string, properties: Record<string, string>): Omit<HostInfo, 'index' | 'occurrence'> {
  const fqdn = properties['host-fqdn'];
  return {
    name,
    host_ip: properties['host-ip'] ?? (isIP(name) !== 0 ? name : null),
    host_fqdn: fqdn === undefined ? null : (hostNameOfUrl(fqdn) ?? fqdn),
    netbios_name: properties['netbios-name'] ?? null,
    operating_system: properties['operating-system'] ?? null,
    mac_address: properties['mac-address'] ?? null,
    host_start: toIsoTimestamp(properties.HOST_START_TIMESTAMP) ?? toIsoTimestamp(properties.HOST_START),
    host_end: toIsoTimestamp(properties.HOST_END_TIMESTAMP) ?? toIsoTimestamp(properties.HOST_END),
    credentialed_scan: toBoolean(properties.Credentialed_Scan),
    cpe: Object.keys(properties)
      .filter((key) => key === 'cpe' || /^cpe-\d+$/.test(key))
      .map((key) => properties[key]!.trim()),
    properties,
  };
}
