import { NessusMcpError } from './errors.js';
import { parseJsonLines } from './jsonnl.js';
import type { ToolArguments } from './tool-arguments.js';
import type { ResultsQuery } from './types.js';

/** The classes of `compare_scans`. */
export const CHANGE_CLASSES = ['new', 'fixed', 'not_rescanned', 'persisting', 'changed'] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];
export type ChangeCounts = Record<ChangeClass, number>;

export interface CompareQuery extends ResultsQuery {
  /** List only these classes (counts always cover all). */
  change?: ChangeClass | readonly ChangeClass[];
}

export interface DeltaSummary {
  type: 'delta_summary';
  base_task_id: string;
  task_id: string;
  counts: ChangeCounts;
  by_severity: Record<string, ChangeCounts>;
  /** `fingerprint` when only that scan's fingerprint remains (its full results expired). */
  detail: { base: 'full' | 'fingerprint'; task: 'full' | 'fingerprint' };
  notes: string[];
  [field: string]: unknown;
}

export interface DeltaVulnerability {
  type: 'vulnerability';
  change: ChangeClass;
  previous_severity?: number;
  [field: string]: unknown;
}

export interface DeltaPage {
  schema: Record<string, unknown>;
  summary: DeltaSummary;
  vulnerabilities: DeltaVulnerability[];
  pagination: Record<string, unknown> | null;
}

export interface SearchQuery {
  cve?: string;
  pluginId?: number;
  /** Address, CIDR or host name. */
  host?: string;
  /** latest (default): per host only its most recent scan; history: every scan. */
  scope?: 'latest' | 'history';
  page?: number;
  pageSize?: number;
}

export interface Occurrence {
  type: 'occurrence';
  host: string;
  port: number;
  protocol: string;
  plugin_id: number;
  plugin_name: string;
  severity: number;
  task_id: string;
  scan_completed_at: string;
  first_seen: string;
  last_seen: string;
  times_seen: number;
}

export interface SearchPage {
  schema: Record<string, unknown>;
  /** Per-scan severity counts of a host (host searches with scope history). */
  hostScans: Record<string, unknown>[];
  occurrences: Occurrence[];
  pagination: Record<string, unknown> | null;
}

function defined(entries: Record<string, unknown>): ToolArguments {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

export function compareArguments(taskId: string, baseTaskId: string, query: CompareQuery): ToolArguments {
  return defined({
    task_id: taskId,
    base_task_id: baseTaskId,
    change: query.change,
    page: query.page,
    page_size: query.pageSize,
    schema_profile: query.profile,
    custom_fields: query.customFields,
    filters: query.filters,
    sort: query.sort,
  });
}

export function searchArguments(query: SearchQuery): ToolArguments {
  return defined({ cve: query.cve, plugin_id: query.pluginId, host: query.host, scope: query.scope, page: query.page, page_size: query.pageSize });
}

function objects(text: string): Record<string, unknown>[] {
  return parseJsonLines(text).map((entry) => {
    if (entry.value === null || typeof entry.value !== 'object' || Array.isArray(entry.value)) {
      throw new NessusMcpError('invalid_response', `line ${entry.line} is not a JSON object`, { details: { line: entry.line } });
    }
    return entry.value as Record<string, unknown>;
  });
}

export function parseDeltaPage(text: string): DeltaPage {
  const lines = objects(text);
  const schema = lines.find((line) => line.type === 'schema');
  const summary = lines.find((line) => line.type === 'delta_summary');
  if (!schema || !summary) throw new NessusMcpError('invalid_response', 'compare_scans answered without its schema and delta_summary lines');
  return {
    schema,
    summary: summary as DeltaSummary,
    vulnerabilities: lines.filter((line) => line.type === 'vulnerability') as DeltaVulnerability[],
    pagination: lines.find((line) => line.type === 'pagination') ?? null,
  };
}

export function parseSearchPage(text: string): SearchPage {
  const lines = objects(text);
  const schema = lines.find((line) => line.type === 'schema');
  if (!schema) throw new NessusMcpError('invalid_response', 'search_findings answered without its schema line');
  return {
    schema,
    hostScans: lines.filter((line) => line.type === 'host_scan'),
    occurrences: lines.filter((line) => line.type === 'occurrence') as unknown as Occurrence[],
    pagination: lines.find((line) => line.type === 'pagination') ?? null,
  };
}
