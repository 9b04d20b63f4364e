import { AppError } from '@nessus-mcp/core/errors';
import type { Finding } from '@nessus-mcp/nessus-parser';
import type { CursorCodec } from './cursor.js';
import { applyFilters, compileFilters, filterObject } from './filters.js';
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
  /** A cursor from an earlier page's pagination line, instead of `page`. */
  cursor?: string | null;
}

/** The query as a cursor carries it: enough to rebuild every parameter but the page. */
export interface CursorQuery {
  /** Profile name, or the custom field list. */
  f: string | string[];
  /** Filters as given (parsed), or absent. */
  w?: Record<string, unknown>;
  s?: string;
  n: number;
}

export interface ResultQuery {
  page: number;
  pageSize: number;
  projection: Projection;
  filters: CompiledFilters;
  sort: SortSpec | null;
  /** What a cursor for another page of this query carries. */
  cursorQuery: CursorQuery;
  /** The store the request's cursor was issued for; null without a cursor. */
  cursorStore: string | null;
}

/** Cursor kind of `get_scan_results` pages. */
export const RESULTS_CURSOR_KIND = 'results';

/** How a query is checked against, and continued by, page cursors. */
export interface CursorContext {
  codec: CursorCodec;
  /** What the listing is of (the task id): a cursor of another scope is refused. */
  scope: string;
  kind?: string;
}

function present<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

function resolveFresh(input: ResultQueryInput, page: number): ResultQuery {
  const projection = resolveProjection(input.schema_profile, input.custom_fields);
  const filters = compileFilters(input.filters);
  const sort = resolveSort(input.sort);
  const pageSize = resolvePageSize(input.page_size);
  const given = present(input.filters) ? filterObject(input.filters) : {};
  const cursorQuery: CursorQuery = {
    f: projection.profile === 'custom' && projection.fields !== 'all' ? [...projection.fields] : projection.profile,
    ...(Object.keys(given).length > 0 ? { w: given } : {}),
    ...(sort ? { s: sort.key } : {}),
    n: pageSize,
  };
  return { page, pageSize, projection, filters, sort, cursorQuery, cursorStore: null };
}

function differentQuery(what: string): AppError {
  return new AppError(
    'invalid_argument',
    `cursor: it continues a query with other ${what}; pass the cursor alone (it carries the query), or drop it and start again from page 1`,
    { details: { field: 'cursor', differs: what } },
  );
}

/**
 * Every semantic check in one place (unknown fields, wrong filter types, negative page): throws
 * `invalid_argument`. With a cursor, the query comes from the cursor; parameters given beside it
 * must mean the same (a cursor used with other filters is refused, not silently reinterpreted).
 */
export function resolveResultQuery(input: ResultQueryInput, cursors?: CursorContext): ResultQuery {
  if (!present(input.cursor)) return resolveFresh(input, resolvePage(input.page));
  if (!cursors) throw new AppError('invalid_argument', 'cursor: this listing does not take cursors; use page', { details: { field: 'cursor' } });
  if (present(input.page)) throw new AppError('invalid_argument', 'give either page or cursor, not both', { details: { field: 'cursor' } });
  const cursor = cursors.codec.decode(input.cursor, cursors.kind ?? RESULTS_CURSOR_KIND);
  if (cursor.scope !== cursors.scope)
    throw new AppError('invalid_argument', 'cursor: it belongs to another task; pass it with the task_id it came with', { details: { field: 'cursor' } });
  const carried = cursor.query as Partial<CursorQuery>;
  const fields = carried.f;
  const query = resolveFresh(
    {
      ...(typeof fields === 'string' ? { schema_profile: fields } : { custom_fields: fields ?? null }),
      filters: carried.w ?? null,
      sort: carried.s ?? null,
      page_size: carried.n ?? null,
    },
    cursor.page,
  );
  if (present(input.filters) && JSON.stringify(compileFilters(input.filters).normalised) !== JSON.stringify(query.filters.normalised))
    throw differentQuery('filters');
  if (present(input.sort) && resolveSort(input.sort)?.key !== query.sort?.key) throw differentQuery('sort');
  if (present(input.page_size) && resolvePageSize(input.page_size) !== query.pageSize) throw differentQuery('page_size');
  if (present(input.schema_profile) || present(input.custom_fields)) {
    const asked = resolveProjection(input.schema_profile, input.custom_fields);
    if (asked.profile !== query.projection.profile || JSON.stringify(asked.fields) !== JSON.stringify(query.projection.fields))
      throw differentQuery('fields (schema_profile or custom_fields)');
  }
  return { ...query, cursorStore: cursor.store };
}

/** The schema, metadata and pagination lines around a page of vulnerability lines. */
export interface ResultEnvelope {
  header: [schema: string, metadata: string];
  /** Absent for page 0. */
  footer: string | null;
  window: PageWindow;
  /** The next page's cursor, null on the last page. */
  cursor: string | null;
}

/**
 * `nextCursor` issues the cursor of a page (absent: the pagination line's cursor is null, as for
 * the in-memory reference, which has no store to name).
 */
export function resultEnvelope(query: ResultQuery, total: number, task: TaskMetadata, facts: ScanFacts, nextCursor?: (page: number) => string): ResultEnvelope {
  const window = pageWindow(total, query.page, query.pageSize);
  const cursor = window.next_page !== null && nextCursor ? nextCursor(window.next_page) : null;
  return {
    header: [
      schemaLine({ projection: query.projection, filters: query.filters.normalised, sort: query.sort?.key ?? null, total, totalPages: window.total_pages }),
      scanMetadataLine(task, facts),
    ],
    footer: query.page === 0 ? null : paginationLine(window, cursor),
    window,
    cursor: query.page === 0 ? null : cursor,
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
