import { open } from 'node:fs/promises';
import { AppError } from '@nessus-mcp/core/errors';
import type { Finding, HostInfo } from '@nessus-mcp/nessus-parser';

/**
 * A scan's fingerprint: per finding its identity across scans (host, port, protocol, plugin id,
 * compliance check name), severity, plugin name, CVEs, finding id and row in the full store,
 * sorted by identity, plus every host the scan covered. It is what `compare_scans` joins on and
 * what the search index is built from, and it outlives the full store (`retention.history_days`),
 * so a weekly scan still compares with last week's whose store has expired.
 *
 * One JSON document of columns (numbers and small dictionaries): 75k findings make about 4 MB,
 * parsed in tens of milliseconds, and held as typed arrays (about 40 bytes a finding).
 */
export const FINGERPRINT_FORMAT = 'nessus-mcp-fingerprints';
export const FINGERPRINT_VERSION = 1;

/** The fields a fingerprint can answer on its own, without the full store. */
export const FINGERPRINT_FIELDS: readonly string[] = Object.freeze([
  'finding_id',
  'host',
  'host_ip',
  'host_fqdn',
  'port',
  'protocol',
  'plugin_id',
  'plugin_name',
  'severity',
  'cve',
]);

interface FingerprintDocument {
  format: typeof FINGERPRINT_FORMAT;
  version: number;
  findings: number;
  /** Covered hosts, sorted by identity: identity, ReportHost name, host-ip, host-fqdn. */
  host_ids: string[];
  host_names: string[];
  host_ips: (string | null)[];
  host_fqdns: (string | null)[];
  protocols: string[];
  /** Compliance check names, sorted; code 0 is "" (not a compliance item). */
  checks: string[];
  plugin_names: string[];
  /** Distinct CVE lists, comma-joined; code 0 is the empty list. */
  cve_lists: string[];
  /** Columns, one entry per finding, in identity order. */
  host: number[];
  port: number[];
  protocol: number[];
  plugin_id: number[];
  check: number[];
  severity: number[];
  plugin_name: number[];
  cves: number[];
  row: number[];
  finding_id: string[];
}

/** The identity host of a finding: the `host-ip` property, else the ReportHost name. */
export function identityHost(finding: Pick<Finding, 'host' | 'host_ip'>): string {
  return finding.host_ip ?? finding.host;
}

class Dictionary {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];

  constructor(first?: string) {
    if (first !== undefined) this.code(first);
  }

  code(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.codes.set(value, code);
    }
    return code;
  }

  /** Renumbers so that code order is string order; returns old code → new code. */
  sorted(): { values: string[]; remap: Uint32Array } {
    const order = this.values.map((_, code) => code).sort((a, b) => compareText(this.values[a] ?? '', this.values[b] ?? ''));
    const remap = new Uint32Array(this.values.length);
    order.forEach((code, position) => {
      remap[code] = position;
    });
    return { values: order.map((code) => this.values[code] ?? ''), remap };
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Collects the fingerprint while ingest streams the findings past (a few array pushes a finding). */
export class FingerprintBuilder {
  private readonly hosts = new Dictionary();
  private readonly hostInfo = new Map<string, { name: string; ip: string | null; fqdn: string | null }>();
  private readonly protocols = new Dictionary();
  private readonly checks = new Dictionary('');
  private readonly pluginNames = new Dictionary();
  private readonly cveLists = new Dictionary('');
  private readonly host: number[] = [];
  private readonly port: number[] = [];
  private readonly protocol: number[] = [];
  private readonly pluginId: number[] = [];
  private readonly check: number[] = [];
  private readonly severity: number[] = [];
  private readonly pluginName: number[] = [];
  private readonly cves: number[] = [];
  private readonly findingIds: string[] = [];

  /** A ReportHost, so a host without findings still counts as covered. */
  observeHost(host: HostInfo): void {
    this.addHost(host.host_ip ?? host.name, host.name, host.host_ip, host.host_fqdn);
  }

  /** Findings arrive grouped by ReportHost: the last host's code is reused while it repeats. */
  private lastHost: { name: string; ip: string | null; code: number } | null = null;

  /** The finding of the next store row (call in row order, before ingest rewrites the finding). */
  observe(finding: Finding): void {
    const last = this.lastHost;
    let hostCode: number;
    if (last && last.name === finding.host && last.ip === finding.host_ip) hostCode = last.code;
    else {
      hostCode = this.addHost(identityHost(finding), finding.host, finding.host_ip, finding.host_fqdn);
      this.lastHost = { name: finding.host, ip: finding.host_ip, code: hostCode };
    }
    this.host.push(hostCode);
    this.port.push(finding.port);
    this.protocol.push(this.protocols.code(finding.protocol));
    this.pluginId.push(finding.plugin_id);
    this.check.push(this.checks.code(finding.compliance?.check_name ?? ''));
    this.severity.push(finding.severity);
    this.pluginName.push(this.pluginNames.code(finding.plugin_name));
    this.cves.push(Array.isArray(finding.cve) && finding.cve.length > 0 ? this.cveLists.code(finding.cve.join(',')) : 0);
    this.findingIds.push(finding.finding_id);
  }

  private addHost(id: string, name: string, ip: string | null, fqdn: string | null): number {
    if (!this.hostInfo.has(id)) this.hostInfo.set(id, { name, ip, fqdn });
    return this.hosts.code(id);
  }

  /** The document, rows sorted by identity (ties by store row, so repeats pair up in order). */
  build(): FingerprintDocument {
    const hosts = this.hosts.sorted();
    const protocols = this.protocols.sorted();
    const checks = this.checks.sorted();
    const count = this.host.length;
    const host = Uint32Array.from(this.host, (code) => hosts.remap[code] ?? 0);
    const protocol = Uint32Array.from(this.protocol, (code) => protocols.remap[code] ?? 0);
    const check = Uint32Array.from(this.check, (code) => checks.remap[code] ?? 0);
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i += 1) order[i] = i;
    order.sort(
      (a, b) =>
        (host[a] ?? 0) - (host[b] ?? 0) ||
        (this.port[a] ?? 0) - (this.port[b] ?? 0) ||
        (protocol[a] ?? 0) - (protocol[b] ?? 0) ||
        (this.pluginId[a] ?? 0) - (this.pluginId[b] ?? 0) ||
        (check[a] ?? 0) - (check[b] ?? 0) ||
        a - b,
    );
    const pick = <T>(column: ArrayLike<T>): T[] => Array.from(order, (row) => column[row] as T);
    const infos = hosts.values.map((id) => this.hostInfo.get(id) ?? { name: id, ip: null, fqdn: null });
    return {
      format: FINGERPRINT_FORMAT,
      version: FINGERPRINT_VERSION,
      findings: count,
      host_ids: hosts.values,
      host_names: infos.map((info) => info.name),
      host_ips: infos.map((info) => info.ip),
      host_fqdns: infos.map((info) => info.fqdn),
      protocols: protocols.values,
      checks: checks.values,
      plugin_names: this.pluginNames.values,
      cve_lists: this.cveLists.values,
      host: pick(host),
      port: pick(this.port),
      protocol: pick(protocol),
      plugin_id: pick(this.pluginId),
      check: pick(check),
      severity: pick(this.severity),
      plugin_name: pick(this.pluginName),
      cves: pick(this.cves),
      row: Array.from(order),
      finding_id: pick(this.findingIds),
    };
  }

  /** Writes the fingerprint durably to `path` (the one the store workspace names). */
  async write(path: string): Promise<void> {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(JSON.stringify(this.build()));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** A finding as far as its fingerprint knows it (the other fields are null). */
export interface FingerprintFinding {
  finding_id: string;
  host: string;
  host_ip: string | null;
  host_fqdn: string | null;
  port: number;
  protocol: string;
  plugin_id: number;
  plugin_name: string;
  severity: number;
  cve: string[];
}

/** A loaded fingerprint: typed columns in identity order, with lookups built on first use. */
export class Fingerprints {
  readonly size: number;
  readonly hostIds: readonly string[];
  private readonly doc: FingerprintDocument;
  private readonly hostColumn: Uint32Array;
  private readonly portColumn: Float64Array;
  private readonly protocolColumn: Uint32Array;
  private readonly pluginColumn: Float64Array;
  private readonly checkColumn: Uint32Array;
  private readonly pluginNameColumn: Uint32Array;
  private readonly cveColumn: Uint32Array;
  readonly severities: Uint8Array;
  /** Store row of each entry. */
  readonly rows: Uint32Array;
  private cveLists: string[][] | null = null;
  private hostCodes: Map<string, number> | null = null;

  private constructor(doc: FingerprintDocument) {
    this.doc = doc;
    this.size = doc.findings;
    this.hostIds = doc.host_ids;
    this.hostColumn = Uint32Array.from(doc.host);
    this.portColumn = Float64Array.from(doc.port);
    this.protocolColumn = Uint32Array.from(doc.protocol);
    this.pluginColumn = Float64Array.from(doc.plugin_id);
    this.checkColumn = Uint32Array.from(doc.check);
    this.pluginNameColumn = Uint32Array.from(doc.plugin_name);
    this.cveColumn = Uint32Array.from(doc.cves);
    this.severities = Uint8Array.from(doc.severity);
    this.rows = Uint32Array.from(doc.row);
    // The number columns are now typed copies: drop the arrays the JSON held.
    for (const key of ['host', 'port', 'protocol', 'plugin_id', 'check', 'severity', 'row', 'plugin_name', 'cves'] as const) doc[key] = [];
  }

  static parse(text: string, source: string): Fingerprints {
    let doc: FingerprintDocument;
    try {
      doc = JSON.parse(text) as FingerprintDocument;
    } catch (error) {
      throw new AppError('internal', `the scan fingerprint ${source} is unreadable`, { cause: error });
    }
    if (doc.format !== FINGERPRINT_FORMAT || doc.version !== FINGERPRINT_VERSION) {
      throw new AppError('internal', `the scan fingerprint ${source} has format ${String(doc.format)} v${String(doc.version)}, which this version cannot read`);
    }
    return new Fingerprints(doc);
  }

  hostOf(entry: number): string {
    return this.hostIds[this.hostColumn[entry] ?? 0] ?? '';
  }

  hostCode(entry: number): number {
    return this.hostColumn[entry] ?? 0;
  }

  /** Whether the scan covered the host (by identity). */
  covers(hostId: string): boolean {
    return this.hostCodeOf(hostId) !== undefined;
  }

  hostCodeOf(hostId: string): number | undefined {
    if (!this.hostCodes) this.hostCodes = new Map(this.hostIds.map((id, code) => [id, code]));
    return this.hostCodes.get(hostId);
  }

  hostNames(code: number): { id: string; name: string; ip: string | null; fqdn: string | null } {
    return {
      id: this.hostIds[code] ?? '',
      name: this.doc.host_names[code] ?? '',
      ip: this.doc.host_ips[code] ?? null,
      fqdn: this.doc.host_fqdns[code] ?? null,
    };
  }

  pluginId(entry: number): number {
    return this.pluginColumn[entry] ?? 0;
  }

  pluginName(entry: number): string {
    return this.doc.plugin_names[this.pluginNameColumn[entry] ?? 0] ?? '';
  }

  port(entry: number): number {
    return this.portColumn[entry] ?? 0;
  }

  protocol(entry: number): string {
    return this.doc.protocols[this.protocolColumn[entry] ?? 0] ?? '';
  }

  check(entry: number): string {
    return this.doc.checks[this.checkColumn[entry] ?? 0] ?? '';
  }

  cves(entry: number): string[] {
    if (!this.cveLists) this.cveLists = this.doc.cve_lists.map((list) => (list === '' ? [] : list.split(',')));
    return this.cveLists[this.cveColumn[entry] ?? 0] ?? [];
  }

  /** Every distinct CVE, plugin id and host the scan names: the keys of the search index. */
  indexKeys(): { cves: string[]; plugins: number[]; hosts: string[] } {
    const cves = new Set<string>();
    for (const list of this.doc.cve_lists) if (list !== '') for (const cve of list.split(',')) cves.add(cve.toUpperCase());
    return { cves: [...cves], plugins: [...new Set(this.pluginColumn)], hosts: [...this.hostIds] };
  }

  /** Entries whose CVE list holds any of the given (upper-case) CVEs. */
  entriesWithCve(cve: string): number[] {
    const wanted = new Set<number>();
    this.doc.cve_lists.forEach((list, code) => {
      if (list !== '' && list.toUpperCase().split(',').includes(cve)) wanted.add(code);
    });
    const out: number[] = [];
    if (wanted.size === 0) return out;
    for (let entry = 0; entry < this.size; entry += 1) if (wanted.has(this.cveColumn[entry] ?? 0)) out.push(entry);
    return out;
  }

  finding(entry: number): FingerprintFinding {
    const host = this.hostNames(this.hostColumn[entry] ?? 0);
    return {
      finding_id: this.doc.finding_id[entry] ?? '',
      host: host.name,
      host_ip: host.ip,
      host_fqdn: host.fqdn,
      port: this.port(entry),
      protocol: this.protocol(entry),
      plugin_id: this.pluginId(entry),
      plugin_name: this.pluginName(entry),
      severity: this.severities[entry] ?? 0,
      cve: this.cves(entry),
    };
  }

  /** Orders entry `i` of this scan against entry `j` of another by identity. */
  compareIdentity(i: number, other: Fingerprints, j: number): number {
    return (
      compareText(this.hostOf(i), other.hostOf(j)) ||
      this.port(i) - other.port(j) ||
      compareText(this.protocol(i), other.protocol(j)) ||
      this.pluginId(i) - other.pluginId(j) ||
      compareText(this.check(i), other.check(j))
    );
  }
}

/** The search-index keys of a scan: its CVEs, plugin ids and host names (identity, ReportHost name, FQDN). */
export function postingsOf(fingerprints: Fingerprints): { cves: string[]; plugins: number[]; hosts: string[] } {
  const { cves, plugins } = fingerprints.indexKeys();
  const hosts = new Set<string>();
  fingerprints.hostIds.forEach((_, code) => {
    const names = fingerprints.hostNames(code);
    for (const name of [names.id, names.name, names.fqdn]) if (name) hosts.add(name.toLowerCase());
  });
  return { cves, plugins, hosts: [...hosts] };
}
