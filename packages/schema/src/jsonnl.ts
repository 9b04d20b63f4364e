import type { FieldValue } from '@nessus-mcp/nessus-parser';
import type { NormalisedFilters } from './filters.js';
import type { PageWindow } from './pagination.js';
import type { Projection } from './profiles.js';
import type { SortKey } from './sort.js';
import { cleanUntrustedValue } from './untrusted-text.js';

export interface SeverityBreakdown {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

export interface ComplianceBreakdown {
  passed: number;
  failed: number;
  warning: number;
  error: number;
  other: number;
}

export type AuthenticationStatus = 'success' | 'partial' | 'failed' | 'not_applicable';

/** What the caller knows about the task (from the task record). */
export interface TaskMetadata {
  task_id: string;
  scan_name: string | null;
  scan_type: string | null;
  targets: readonly string[];
  started_at: string | null;
  completed_at: string | null;
}

/** What the result store knows about the scan (from the ingested export). */
export interface ScanFacts {
  hosts_scanned: number;
  total_vulnerabilities: number;
  severity_breakdown: SeverityBreakdown;
  authentication_status: AuthenticationStatus;
  compliance?: ComplianceBreakdown;
}

export interface SchemaLineInput {
  projection: Projection;
  filters: NormalisedFilters;
  sort: SortKey | null;
  total: number;
  totalPages: number;
}

/**
 * One JSON-NL line. Every line type goes through here, so text from scanned hosts (and anything
 * a caller typed) reaches the reader without invisible or control characters.
 */
export function jsonLine(value: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(cleanUntrustedValue(value));
}

export function schemaLine(input: SchemaLineInput): string {
  return jsonLine({
    type: 'schema',
    profile: input.projection.profile,
    fields: input.projection.fields,
    filters_applied: input.filters,
    sort: input.sort,
    total_vulnerabilities: input.total,
    total_pages: input.totalPages,
  });
}

export function scanMetadataLine(task: TaskMetadata, facts: ScanFacts): string {
  return jsonLine({
    type: 'scan_metadata',
    task_id: task.task_id,
    scan_name: task.scan_name,
    scan_type: task.scan_type,
    targets: task.targets,
    started_at: task.started_at,
    completed_at: task.completed_at,
    hosts_scanned: facts.hosts_scanned,
    total_vulnerabilities: facts.total_vulnerabilities,
    severity_breakdown: facts.severity_breakdown,
    authentication_status: facts.authentication_status,
    ...(facts.compliance ? { compliance: facts.compliance } : {}),
  });
}

export function vulnerabilityLine(fields: Readonly<Record<string, FieldValue>>): string {
  // `type` is written last as well so an export element that happens to be called `type`
  // cannot overwrite the line type (the first position is kept for readers that peek).
  return jsonLine({ type: 'vulnerability', ...fields, ...(Object.hasOwn(fields, 'type') ? { type: 'vulnerability' } : {}) });
}

/** `cursor` continues with the next page (null on the last one). */
export function paginationLine(window: PageWindow, cursor: string | null = null): string {
  return jsonLine({
    type: 'pagination',
    page: window.page,
    page_size: window.page_size,
    total_pages: window.total_pages,
    has_next: window.has_next,
    next_page: window.next_page,
    cursor,
  });
}
