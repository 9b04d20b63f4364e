import type { FieldValue } from '@nessus-mcp/nessus-parser';
import type { CompiledFilters } from '@nessus-mcp/schema';
import type { ResultStore } from './store.js';

export const GROUP_BY_KEYS = ['severity', 'plugin_id', 'host', 'cve', 'port', 'plugin_family', 'solution'] as const;
export type GroupBy = (typeof GROUP_BY_KEYS)[number];

export const SEVERITY_LABELS = ['info', 'low', 'medium', 'high', 'critical'] as const;

/** Solutions are keys of the fix-first list; longer ones (KB lists) are cut so 20 groups stay within about 1,500 tokens. */
const MAX_SOLUTION_KEY_CHARS = 200;

/** The strongest exploitation signals among a group's findings; only those present are written. */
export interface GroupRisk {
  /** Earliest CISA KEV date-added of the group. */
  cisa_known_exploited?: string;
  /** Some finding is exploited by malware or has a public exploit. */
  exploit_available?: true;
  epss_score?: number;
  vpr_score?: number;
}

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

export interface FindingGroup {
  key: string | number;
  label: string;
  /** Findings of the group (a finding with three CVEs counts in three `cve` groups). */
  count: number;
  /** Distinct ReportHosts among them. */
  hosts: number;
  max_severity: number;
  max_risk?: GroupRisk;
  /** Only when asked for (the HTML report's hosts table). */
  by_severity?: SeverityCounts;
}

export interface GroupedFindings {
  group_by: GroupBy;
  /** Findings the filters keep. */
  total_findings: number;
  /** Groups before `top` cut them. */
  total_groups: number;
  groups: FindingGroup[];
}

export interface GroupOptions {
  /** Groups returned (largest first). */
  top: number;
  /** Adds `by_severity` to each group. */
  severityCounts?: boolean;
}

interface Accumulator {
  key: string | number;
  /** Label candidate and the severity it was taken at: the most severe finding names the group. */
  label: string;
  labelSeverity: number;
  count: number;
  hosts: number;
  lastHost: number;
  maxSeverity: number;
  kev: string | null;
  exploited: boolean;
  epss: number;
  vpr: number;
  plugins: Set<number> | null;
  bySeverity: [number, number, number, number, number] | null;
}

type Reader = (row: number) => FieldValue;

const asText = (value: FieldValue): string => (typeof value === 'string' ? value : '');
const asNumber = (value: FieldValue): number => (typeof value === 'number' ? value : Number.NaN);

function groupKeys(groupBy: GroupBy, read: (field: string) => Reader): (row: number) => readonly (string | number)[] {
  // One array reused for every single-key row: the caller reads it before asking for the next row.
  const one: (string | number)[] = [''];
  const single = (key: string | number): readonly (string | number)[] => {
    one[0] = key;
    return one;
  };
  switch (groupBy) {
    case 'severity': {
      const severity = read('severity');
      return (row) => single(asNumber(severity(row)) || 0);
    }
    case 'plugin_id': {
      const pluginId = read('plugin_id');
      return (row) => single(asNumber(pluginId(row)) || 0);
    }
    case 'host': {
      const host = read('host');
      return (row) => single(asText(host(row)));
    }
    case 'cve': {
      const cve = read('cve');
      return (row) => {
        const value = cve(row);
        return Array.isArray(value) ? value : [];
      };
    }
    case 'port': {
      const port = read('port');
      const protocol = read('protocol');
      return (row) => single(`${asNumber(port(row)) || 0}/${asText(protocol(row))}`);
    }
    case 'plugin_family': {
      const family = read('plugin_family');
      return (row) => single(asText(family(row)));
    }
    case 'solution': {
      const solution = read('solution');
      const cut = new Map<string, string>();
      return (row) => {
        const text = asText(solution(row));
        if (text === '') return [];
        let key = cut.get(text);
        if (key === undefined) {
          const trimmed = text.trim();
          key = trimmed.length > MAX_SOLUTION_KEY_CHARS ? `${trimmed.slice(0, MAX_SOLUTION_KEY_CHARS)}…` : trimmed;
          cut.set(text, key);
        }
        return key === '' ? [] : single(key);
      };
    }
  }
}

/** What names a group beside its key, read from the group's most severe finding. */
function groupLabel(groupBy: GroupBy, read: (field: string) => Reader): ((row: number, key: string | number) => string) | null {
  switch (groupBy) {
    case 'plugin_id':
    case 'cve':
    case 'solution': {
      const name = read('plugin_name');
      return (row) => asText(name(row));
    }
    case 'port': {
      const service = read('svc_name');
      return (row) => asText(service(row));
    }
    case 'host': {
      // The FQDN, else the address, when it says more than the ReportHost name.
      const fqdn = read('host_fqdn');
      const ip = read('host_ip');
      return (row, key) => {
        const name = asText(fqdn(row));
        if (name !== '' && name !== key) return name;
        const address = asText(ip(row));
        return address !== '' && address !== key ? address : String(key);
      };
    }
    case 'severity':
    case 'plugin_family':
      return null;
  }
}

const LABEL_FIELDS: Record<GroupBy, string[]> = {
  severity: [],
  plugin_id: ['plugin_id', 'plugin_name'],
  host: ['host', 'host_fqdn', 'host_ip'],
  cve: ['cve', 'plugin_name'],
  port: ['port', 'protocol', 'svc_name'],
  plugin_family: ['plugin_family'],
  solution: ['solution', 'plugin_id', 'plugin_name'],
};

const FIELDS_READ = ['severity', 'host_index', 'cisa_known_exploited', 'exploited_by_malware', 'exploit_available', 'epss_score', 'vpr_score'];

/**
 * Counts the findings the filters keep per group, from the store's columns (a field without a
 * column is read from the records once). Groups come largest first, ties by severity then key;
 * `severity` groups come critical to info. Findings without a CVE (or without a solution) are in
 * no `cve` (`solution`) group; every other `group_by` puts each finding in exactly one group.
 */
export async function groupFindings(store: ResultStore, filters: CompiledFilters, groupBy: GroupBy, options: GroupOptions): Promise<GroupedFindings> {
  // A store never changes once written (a re-ingest opens a new one), so a grouping is reused
  // for repeated questions: an agent's follow-ups and the HTML report ask the same ones.
  let cache = GROUPINGS.get(store);
  if (!cache) {
    cache = new Map();
    GROUPINGS.set(store, cache);
  }
  const key = JSON.stringify([groupBy, options.severityCounts === true, Object.entries(filters.normalised).sort(([a], [b]) => (a < b ? -1 : 1))]);
  let grouping = cache.get(key);
  if (grouping) cache.delete(key);
  else {
    grouping = computeGroups(store, filters, groupBy, options.severityCounts === true);
    grouping.catch(() => cache.delete(key));
  }
  cache.set(key, grouping);
  if (cache.size > MAX_CACHED_GROUPINGS) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  const all = await grouping;
  return { group_by: groupBy, total_findings: all.totalFindings, total_groups: all.groups.length, groups: all.groups.slice(0, Math.max(0, options.top)) };
}

/** Groupings kept per open store, most recent last. */
const MAX_CACHED_GROUPINGS = 16;
const GROUPINGS = new WeakMap<ResultStore, Map<string, Promise<{ totalFindings: number; groups: FindingGroup[] }>>>();

async function computeGroups(
  store: ResultStore,
  filters: CompiledFilters,
  groupBy: GroupBy,
  severityCounts: boolean,
): Promise<{ totalFindings: number; groups: FindingGroup[] }> {
  const rows = await store.select(filters, null);
  const fields = [...new Set([...FIELDS_READ, ...LABEL_FIELDS[groupBy]])];
  const readers = new Map<string, Reader>();
  await Promise.all(
    fields.map(async (field) => {
      const reader = await store.fieldReader(field, rows);
      readers.set(field, reader.read);
    }),
  );
  const read = (field: string): Reader => readers.get(field) ?? (() => null);
  const keysOf = groupKeys(groupBy, read);
  const severity = read('severity');
  const hostIndex = read('host_index');
  const kev = read('cisa_known_exploited');
  const malware = read('exploited_by_malware');
  const exploit = read('exploit_available');
  const epss = read('epss_score');
  const vpr = read('vpr_score');
  const label = groupLabel(groupBy, read);
  const pluginId = read('plugin_id');

  const groups = new Map<string | number, Accumulator>();
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i] ?? 0;
    const keys = keysOf(row);
    if (keys.length === 0) continue;
    const rowSeverity = Math.min(4, Math.max(0, asNumber(severity(row)) || 0));
    const host = asNumber(hostIndex(row));
    const listed = kev(row);
    const exploited = malware(row) === true || exploit(row) === true;
    const rowEpss = asNumber(epss(row));
    const rowVpr = asNumber(vpr(row));
    for (let k = 0; k < keys.length; k += 1) {
      const key = keys[k] ?? '';
      // A CVE listed twice on one finding still counts that finding once.
      if (k > 0 && keys.indexOf(key) < k) continue;
      let group = groups.get(key);
      if (!group) {
        group = {
          key,
          label: '',
          labelSeverity: -1,
          count: 0,
          hosts: 0,
          lastHost: Number.NaN,
          maxSeverity: 0,
          kev: null,
          exploited: false,
          epss: Number.NaN,
          vpr: Number.NaN,
          plugins: groupBy === 'solution' ? new Set() : null,
          bySeverity: severityCounts ? [0, 0, 0, 0, 0] : null,
        };
        groups.set(key, group);
      }
      group.count += 1;
      // Rows come in document order, where a ReportHost's findings are contiguous.
      if (host !== group.lastHost) {
        group.hosts += 1;
        group.lastHost = host;
      }
      if (rowSeverity > group.maxSeverity) group.maxSeverity = rowSeverity;
      if (label && rowSeverity > group.labelSeverity) {
        group.label = label(row, key);
        group.labelSeverity = rowSeverity;
      }
      if (typeof listed === 'string' && (group.kev === null || listed < group.kev)) group.kev = listed;
      if (exploited) group.exploited = true;
      if (!(rowEpss <= group.epss)) group.epss = Number.isNaN(rowEpss) ? group.epss : rowEpss;
      if (!(rowVpr <= group.vpr)) group.vpr = Number.isNaN(rowVpr) ? group.vpr : rowVpr;
      group.plugins?.add(asNumber(pluginId(row)));
      if (group.bySeverity) group.bySeverity[rowSeverity] = (group.bySeverity[rowSeverity] ?? 0) + 1;
    }
  }

  const all = [...groups.values()];
  if (groupBy === 'severity') all.sort((a, b) => Number(b.key) - Number(a.key));
  else all.sort((a, b) => b.count - a.count || b.maxSeverity - a.maxSeverity || compareKeys(a.key, b.key));
  return { totalFindings: rows.length, groups: all.map((group) => toGroup(group, groupBy)) };
}

function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function toGroup(group: Accumulator, groupBy: GroupBy): FindingGroup {
  let label = group.label;
  if (groupBy === 'severity') label = SEVERITY_LABELS[Number(group.key)] ?? String(group.key);
  else label ||= String(group.key);
  if (groupBy === 'solution' && group.plugins && group.plugins.size > 1) label = `${label} (+${group.plugins.size - 1} more plugins)`;
  const risk: GroupRisk = {};
  if (group.kev !== null) risk.cisa_known_exploited = group.kev;
  if (group.exploited) risk.exploit_available = true;
  if (!Number.isNaN(group.epss)) risk.epss_score = group.epss;
  if (!Number.isNaN(group.vpr)) risk.vpr_score = group.vpr;
  const out: FindingGroup = { key: group.key, label, count: group.count, hosts: group.hosts, max_severity: group.maxSeverity };
  if (Object.keys(risk).length > 0) out.max_risk = risk;
  if (group.bySeverity) {
    const [info, low, medium, high, critical] = group.bySeverity;
    out.by_severity = { critical, high, medium, low, info };
  }
  return out;
}
