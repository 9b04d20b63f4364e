import type { Finding } from '@nessus-mcp/nessus-parser';
import { applyFilters, compileFilters } from './filters.js';
import type { CompiledFilters } from './filters.js';
import { paginationLine, scanMetadataLine, schemaLine, vulnerabilityLine } from './jsonnl.js';
import type { ScanFacts, TaskMetadata } from './jsonnl.js';
import { pageWindow, resolvePage, resolvePageSize } from './pagination.js';
import type { PageWindow } from './pagination.js';
import { projectFinding, resolveProjection } from './profiles.js';
import type { Projection } from './profiles.js';
import { resolveSort, sortFindings } from './sort.js';
import type { SortSpec } from './sort.js';

/** `get_scan_results` parameters as a transport delivers them (already shape-checked or not). */
export interface ResultQueryInput {
  page?: number | null;
  page_size?: number | null;
  schema_profile?: string | null;
  custom_fields?: readonly string[] | null;
  filters?: Record<string, unknown> | string | null;
  sort?: string | null;
}

export interface ResultQuery {
  page: number;
  pageSize: number;
  projection: Projection;
  filters: CompiledFilters;
  sort: SortSpec | null;
}

/** Every semantic check in one place (unknown fields, wrong filter types, negative page): throws `invalid_argument`. */
export function resolveResultQuery(input: ResultQueryInput): ResultQuery {
  return {
    page: resolvePage(input.page),
    pageSize: resolvePageSize(input.page_size),
    projection: resolveProjection(input.schema_profile, input.custom_fields),
    filters: compileFilters(input.filters),
    sort: resolveSort(input.sort),
  };
}

/** The schema, metadata and pagination lines around a page of vulnerability lines. */
export interface ResultEnvelope {
  header: [schema: string, metadata: string];
  /** Absent for page 0. */
  footer: string | null;
  window: PageWindow;
}

export function resultEnvelope(query: ResultQuery, total: number, task: TaskMetadata, facts: ScanFacts): ResultEnvelope {
  const window = pageWindow(total, query.page, query.pageSize);
  return {
    header: [
      schemaLine({ projection: query.projection, filters: query.filters.normalised, sort: query.sort?.key ?? null, total, totalPages: window.total_pages }),
      scanMetadataLine(task, facts),
    ],
    footer: query.page === 0 ? null : paginationLine(window),
    window,
  };
}

/**
 * The whole pipeline over findings held in memory: filter, sort, page, project. It is the
 * reference the indexed result store must agree with, and what "re-parse per page" costs.
 */
export function renderResultLines(findings: readonly Finding[], query: ResultQuery, task: TaskMetadata, facts: ScanFacts): string[] {
  const ordered = sortFindings(applyFilters(findings, query.filters), query.sort);
  const envelope = resultEnvelope(query, ordered.length, task, facts);
  const lines: string[] = [...envelope.header];
  for (const finding of ordered.slice(envelope.window.start, envelope.window.end)) {
    lines.push(vulnerabilityLine(projectFinding(finding, query.projection)));
  }
  if (envelope.footer !== null) lines.push(envelope.footer);
  return lines;
}
