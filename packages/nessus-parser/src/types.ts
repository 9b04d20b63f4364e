/**
 * What the parser yields. The `schema` and `results` packages build on these names:
 * add fields freely, but do not rename or retype the ones declared here.
 */

/** A value of a finding field after normalisation. */
export type FieldValue = string | number | boolean | null | string[] | ComplianceResult;

export interface ComplianceResult {
  check_name: string | null;
  check_id: string | null;
  audit_file: string | null;
  /** As written by Nessus: PASSED, FAILED, WARNING, ERROR, SKIPPED, ... Never inferred from severity. */
  result: string | null;
  actual_value: string | null;
  policy_value: string | null;
  info: string | null;
  solution: string | null;
  reference: string | null;
  see_also: string | null;
  /** Every other `cm:compliance-*` element, keyed without the `cm:compliance-` prefix. */
  other: Record<string, string>;
}

/** One `<ReportItem>`: never merged with another item of the same plugin. */
export interface Finding {
  /** Stable across runs of the same file: a hash of host, port, protocol, plugin id, compliance check id (and ordinal for exact duplicates). */
  finding_id: string;
  /** Ordinal of the item in the document (0-based). */
  index: number;
  /** ReportHost `name`, and the host context from its HostProperties. */
  host: string;
  host_ip: string | null;
  host_fqdn: string | null;
  netbios_name: string | null;
  operating_system: string | null;
  port: number;
  /** Lower-cased (`tcp`, `udp`, `icmp`). */
  protocol: string;
  svc_name: string;
  plugin_id: number;
  plugin_name: string;
  plugin_family: string;
  /** 0 info, 1 low, 2 medium, 3 high, 4 critical: the item's `severity` attribute as written. */
  severity: number;
  risk_factor: string | null;
  cve: string[];
  /** Highest CVSS version present (v4, then v3, then v2) and which one it was. */
  cvss_score: number | null;
  cvss_version: '2' | '3' | '4' | null;
  cvss_base_score: number | null;
  cvss3_base_score: number | null;
  cvss4_base_score: number | null;
  exploit_available: boolean | null;
  synopsis: string | null;
  description: string | null;
  solution: string | null;
  plugin_output: string | null;
  /** Date the finding's vulnerability was added to CISA's Known Exploited Vulnerabilities catalogue (ISO day), or null when not listed. */
  cisa_known_exploited: string | null;
  compliance: ComplianceResult | null;
  /** Ordinal of the finding's ReportHost (distinguishes two ReportHost blocks with the same name). */
  host_index: number;
  /** Names of the fields cut at the size cap (present only when something was cut). */
  truncated_fields?: string[];
  /** Every other child element, typed per `FIELD_TYPES` (unknown elements are strings). */
  [field: string]: FieldValue | undefined;
}

export interface HostInfo {
  /** Ordinal of the ReportHost in the document (0-based). Two hosts may share a name. */
  index: number;
  /** Which ReportHost of that name this is (0 for the first): disambiguates duplicate names. */
  occurrence: number;
  name: string;
  host_ip: string | null;
  host_fqdn: string | null;
  netbios_name: string | null;
  operating_system: string | null;
  mac_address: string | null;
  /** ISO 8601, from HOST_START / HOST_END. */
  host_start: string | null;
  host_end: string | null;
  credentialed_scan: boolean | null;
  /** The `cpe`, `cpe-0`, `cpe-1`, ... tags, in document order. */
  cpe: string[];
  /** Every HostProperties tag as written (cpe-*, patch-summary-*, ...). */
  properties: Record<string, string>;
}

export interface ScanInfo {
  report_name: string | null;
  policy_name: string | null;
  /** The Report element's `type` attribute where present (`was` for Web App Scanning exports). */
  report_type: string | null;
  /** Number of plugin ids in the `plugin_set` preference (the list itself is too large to carry). */
  plugin_count: number | null;
  /** Server/plugin preferences of interest (TARGET, plugin_set, ...), as written. */
  preferences: Record<string, string>;
  /** TARGET split on commas/whitespace. */
  targets: string[];
}

export interface ParseSummary {
  hosts: number;
  findings: number;
  by_severity: Record<'0' | '1' | '2' | '3' | '4', number>;
  /** Earliest HOST_START / latest HOST_END seen, ISO 8601. */
  scan_start: string | null;
  scan_end: string | null;
  /** Text fields cut at the size cap, if any. */
  truncated_fields: number;
}

export type ParseEvent =
  { type: 'scan'; scan: ScanInfo } | { type: 'host'; host: HostInfo } | { type: 'finding'; finding: Finding } | { type: 'end'; summary: ParseSummary };

export interface ParseOptions {
  /** Cap for any single text field, in UTF-8 bytes; longer text is cut and marked. Default 4 MiB. */
  maxFieldBytes?: number;
  /** Deepest element nesting accepted (Nessus needs 6). Default 64. */
  maxDepth?: number;
  /**
   * Worker threads parsing ReportHost blocks alongside the calling thread. `0` parses on the
   * calling thread only. `'auto'` (default) uses workers only for files of 8 MiB or more on
   * machines with 4 or more cores (cores - 2, at most 3); worker mode costs about half again
   * as much CPU in total, so on smaller machines it rarely pays. Output is identical either way.
   */
  workers?: number | 'auto';
}
