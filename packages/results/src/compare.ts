import { AppError } from '@nessus-mcp/core/errors';
import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { getFieldValue, matchesCondition, pageWindow, paginationLine, projectFinding, resolveResultQuery, vulnerabilityLine } from '@nessus-mcp/schema';
import type { CompiledFilters, CursorContext, ResultQuery, ResultQueryInput, SortSpec } from '@nessus-mcp/schema';
import { columnValue } from './columns.js';
import { CHANGE_CLASSES, CHANGED, emptyCounts, fromBase } from './delta.js';
import type { ChangeClass, ChangeCounts, Delta } from './delta.js';
import { FINGERPRINT_FIELDS } from './fingerprints.js';
import type { Fingerprints } from './fingerprints.js';
import type { ResultStore } from './store.js';

const STREAM_CHUNK_ROWS = 500;
const SEVERITY_NAMES = ['info', 'low', 'medium', 'high', 'critical'] as const;
/** Default order: what needs attention first (new, changed, fixed), then identity order. */
const CLASS_RANK = new Uint8Array([0, 2, 3, 4, 1]);

/** One scan of a comparison: its fingerprint always, its full store while retained. */
export interface CompareSide {
  task_id: string;
  completed_at: string | null;
  fingerprints: Fingerprints;
  store: ResultStore | null;
}

export interface CompareQueryInput extends ResultQueryInput {
  /** Only these classes in the listing (counts still cover every class). */
  change?: readonly string[] | string | null;
}

export type SeverityByChange = Record<(typeof SEVERITY_NAMES)[number], ChangeCounts>;

/** The counts of a comparison, over the whole delta (after filters, before `change`). */
export interface DeltaCounts {
  counts: ChangeCounts;
  by_severity: SeverityByChange;
}

/** The JSON-NL answer to one `compare_scans` call. */
export interface DeltaPage extends AsyncIterable<string>, DeltaCounts {
  readonly page: number;
  readonly page_size: number;
  /** Entries matching filters and `change` (all pages). */
  readonly total: number;
  readonly total_pages: number;
  readonly returned: number;
  /** The cursor of the next page (null on the last page, for page 0, and without a codec). */
  readonly next_cursor: string | null;
  toArray(): Promise<string[]>;
  toText(): Promise<string>;
}

/** Cursor kind of `compare_scans` pages: a results cursor is refused here, and the other way round. */
export const DELTA_CURSOR_KIND = 'delta';

/** A comparison query, checked: the `get_scan_results` parameters plus the classes to list. */
export interface ResolvedCompareQuery {
  query: ResultQuery;
  changes: ChangeClass[];
  /** With a cursor: the base task it was issued for (what `"previous"` meant then); else null. */
  cursorBase: string | null;
}

function changeList(change: CompareQueryInput['change']): string[] {
  if (change === undefined || change === null) return [];
  return typeof change === 'string' ? change.split(',').map((part) => part.trim()) : [...change];
}

/**
 * Checks a comparison query. With a cursor (`cursors` given: the codec and the task id), the
 * query, the classes and the base come from the cursor; parameters given beside it must mean the
 * same, as for `get_scan_results`.
 */
export function resolveCompareQuery(input: CompareQueryInput, cursors?: Omit<CursorContext, 'kind'>): ResolvedCompareQuery {
  const context = cursors && { ...cursors, kind: DELTA_CURSOR_KIND };
  const query = resolveResultQuery(input, context);
  let raw = changeList(input.change);
  let cursorBase: string | null = null;
  if (context && input.cursor !== undefined && input.cursor !== null) {
    const carried = context.codec.decode(input.cursor, DELTA_CURSOR_KIND).query;
    const carriedChanges = Array.isArray(carried.c) ? carried.c.map(String) : [];
    if (raw.length > 0 && JSON.stringify([...new Set(raw)].sort()) !== JSON.stringify([...carriedChanges].sort())) {
      throw new AppError('invalid_argument', 'cursor: it continues a comparison of other change classes; pass the cursor alone, or drop it and start again', {
        details: { field: 'cursor', differs: 'change' },
      });
    }
    raw = carriedChanges;
    cursorBase = typeof carried.b === 'string' ? carried.b : null;
  }
  const unknown = raw.filter((value) => !(CHANGE_CLASSES as readonly string[]).includes(value));
  if (unknown.length > 0) {
    throw new AppError(
      'invalid_argument',
      `change: unknown class(es) ${unknown.map((value) => `'${value}'`).join(', ')}; valid: ${CHANGE_CLASSES.join(', ')}`,
      {
        details: { field: 'change', valid: [...CHANGE_CLASSES] },
      },
    );
  }
  return { query, changes: raw.length === 0 ? [...CHANGE_CLASSES] : [...new Set(raw as ChangeClass[])], cursorBase };
}

/** Which of a side's fingerprint entries match the filters: from the store's columns, else from the fingerprint. */
async function sideFilter(side: CompareSide, filters: CompiledFilters): Promise<(entry: number) => boolean> {
  if (filters.conditions.length === 0) return () => true;
  const { fingerprints, store } = side;
  if (store) {
    const mask = new Uint8Array(store.size);
    for (const row of await store.select(filters, null)) mask[row] = 1;
    return (entry) => mask[fingerprints.rows[entry] ?? 0] === 1;
  }
  const missing = filters.conditions.filter((condition) => !condition.sources.every((source) => FINGERPRINT_FIELDS.includes(source)));
  if (missing.length > 0) {
    throw new AppError(
      'invalid_argument',
      `filters: task ${side.task_id} keeps only its fingerprint (its full results expired), so ${missing.map((c) => `'${c.field}'`).join(', ')} cannot be filtered on; ` +
        `use ${FINGERPRINT_FIELDS.join(', ')}`,
      { details: { field: 'filters', task_id: side.task_id, valid: [...FINGERPRINT_FIELDS] } },
    );
  }
  return (entry) => {
    const finding = fingerprints.finding(entry) as unknown as Finding;
    return filters.conditions.every((condition) => matchesCondition(finding, condition));
  };
}

/** Sort keys of a side's entries: from the store's columns, else from the fingerprint (unknown values sort last). */
async function sideSortKeys(side: CompareSide, sort: SortSpec): Promise<(entry: number) => (FieldValue | undefined)[]> {
  const { fingerprints, store } = side;
  if (store) {
    const columns = await Promise.all(sort.fields.map((field) => store.column(field)));
    if (columns.every((column) => column !== null)) {
      return (entry) => columns.map((column) => (column ? columnValue(column, fingerprints.rows[entry] ?? 0) : null));
    }
  }
  return (entry) => {
    const finding = fingerprints.finding(entry) as unknown as Finding;
    return sort.fields.map((field) => getFieldValue(finding, field) ?? null);
  };
}

/** Entries of the delta matching the query, ordered, and the counts over every class. */
export interface DeltaSelection extends DeltaCounts {
  entries: Uint32Array;
}

export async function selectDelta(base: CompareSide, next: CompareSide, delta: Delta, resolved: ResolvedCompareQuery): Promise<DeltaSelection> {
  const { query, changes } = resolved;
  const [baseMatches, nextMatches] = await Promise.all([sideFilter(base, query.filters), sideFilter(next, query.filters)]);
  const listed = new Uint8Array(CHANGE_CLASSES.length);
  for (const change of changes) listed[CHANGE_CLASSES.indexOf(change)] = 1;
  const counts = emptyCounts();
  const bySeverity = Object.fromEntries(SEVERITY_NAMES.map((name) => [name, emptyCounts()])) as SeverityByChange;
  const kept: number[] = [];
  for (let entry = 0; entry < delta.size; entry += 1) {
    const change = delta.change[entry] ?? 0;
    const shownBase = fromBase(change);
    const at = shownBase ? (delta.base[entry] ?? 0) : (delta.next[entry] ?? 0);
    if (!(shownBase ? baseMatches(at) : nextMatches(at))) continue;
    const name = CHANGE_CLASSES[change] ?? 'new';
    counts[name] += 1;
    const severity = SEVERITY_NAMES[(shownBase ? base : next).fingerprints.severities[at] ?? 0] ?? 'info';
    bySeverity[severity][name] += 1;
    if (listed[change] === 1) kept.push(entry);
  }
  const rank = (entry: number): number => CLASS_RANK[delta.change[entry] ?? 0] ?? 0;
  let entries = Uint32Array.from(kept);
  if (query.sort) {
    const sort = query.sort;
    const [baseKeys, nextKeys] = await Promise.all([sideSortKeys(base, sort), sideSortKeys(next, sort)]);
    const keys = new Map<number, (FieldValue | undefined)[]>();
    for (const entry of entries) {
      const change = delta.change[entry] ?? 0;
      keys.set(entry, fromBase(change) ? baseKeys(delta.base[entry] ?? 0) : nextKeys(delta.next[entry] ?? 0));
    }
    entries = entries.sort((a, b) => sort.compare(keys.get(a) ?? [], keys.get(b) ?? []) || rank(a) - rank(b) || a - b);
  } else {
    entries = entries.sort((a, b) => rank(a) - rank(b) || a - b);
  }
  return { entries, counts, by_severity: bySeverity };
}

/** Facts the `delta_summary` line carries besides the counts. */
export interface DeltaSummaryFacts {
  base: CompareSide;
  next: CompareSide;
  /** Plain-language remarks: same task, different scan types, fingerprint-only sides. */
  notes: string[];
}

/**
 * Renders one page of a selection: schema line, `delta_summary`, one vulnerability line per
 * entry (full fields from the store holding it, fingerprint fields once that store expired),
 * then pagination. Only this page's records are read.
 */
export function renderDeltaPage(
  selection: DeltaSelection,
  delta: Delta,
  resolved: ResolvedCompareQuery,
  facts: DeltaSummaryFacts,
  nextCursor?: (page: number) => string,
): DeltaPage {
  const { query, changes } = resolved;
  const { base, next } = facts;
  const total = selection.entries.length;
  const window = pageWindow(total, query.page, query.pageSize);
  const cursor = window.next_page !== null && query.page !== 0 && nextCursor ? nextCursor(window.next_page) : null;
  const pageEntries = selection.entries.subarray(window.start, window.end);
  const schema = JSON.stringify({
    type: 'schema',
    profile: query.projection.profile,
    fields: query.projection.fields,
    filters_applied: query.filters.normalised,
    change_applied: changes,
    sort: query.sort?.key ?? null,
    total_vulnerabilities: total,
    total_pages: window.total_pages,
  });
  const summary = JSON.stringify({
    type: 'delta_summary',
    base_task_id: base.task_id,
    task_id: next.task_id,
    base_completed_at: base.completed_at,
    completed_at: next.completed_at,
    counts: selection.counts,
    by_severity: selection.by_severity,
    detail: { base: base.store ? 'full' : 'fingerprint', task: next.store ? 'full' : 'fingerprint' },
    notes: facts.notes,
  });

  const render = async (chunk: Uint32Array): Promise<string[]> => {
    const wanted = { base: [] as number[], next: [] as number[] };
    for (const entry of chunk) {
      const change = delta.change[entry] ?? 0;
      if (fromBase(change)) wanted.base.push(delta.base[entry] ?? 0);
      else wanted.next.push(delta.next[entry] ?? 0);
    }
    const [baseFindings, nextFindings] = await Promise.all([findingsOf(base, wanted.base), findingsOf(next, wanted.next)]);
    return Array.from(chunk, (entry) => {
      const change = delta.change[entry] ?? 0;
      const shownBase = fromBase(change);
      const at = shownBase ? (delta.base[entry] ?? 0) : (delta.next[entry] ?? 0);
      const finding = (shownBase ? baseFindings : nextFindings).get(at);
      if (!finding) throw new AppError('internal', `comparison entry ${entry} has no finding`);
      const head: Record<string, FieldValue> = { change: CHANGE_CLASSES[change] ?? 'new' };
      if (change === CHANGED) head.previous_severity = base.fingerprints.severities[delta.base[entry] ?? 0] ?? null;
      return vulnerabilityLine({ ...head, ...projectFinding(finding, query.projection) });
    });
  };

  async function* lines(): AsyncGenerator<string> {
    yield schema;
    yield summary;
    for (let start = 0; start < pageEntries.length; start += STREAM_CHUNK_ROWS) yield* await render(pageEntries.subarray(start, start + STREAM_CHUNK_ROWS));
    if (query.page !== 0) yield paginationLine(window, cursor);
  }

  const page: DeltaPage = {
    counts: selection.counts,
    by_severity: selection.by_severity,
    page: window.page,
    page_size: window.page_size,
    total,
    total_pages: window.total_pages,
    returned: pageEntries.length,
    next_cursor: cursor,
    [Symbol.asyncIterator]: () => lines(),
    toArray: async () => {
      const all: string[] = [];
      for await (const line of lines()) all.push(line);
      return all;
    },
    toText: async () => `${(await page.toArray()).join('\n')}\n`,
  };
  return page;
}

/** Full findings of the given fingerprint entries, keyed by entry; fingerprint fields when the store is gone. */
async function findingsOf(side: CompareSide, entries: number[]): Promise<Map<number, Finding>> {
  const out = new Map<number, Finding>();
  if (entries.length === 0) return out;
  if (!side.store) {
    for (const entry of entries) out.set(entry, side.fingerprints.finding(entry) as unknown as Finding);
    return out;
  }
  const findings = await side.store.findings(entries.map((entry) => side.fingerprints.rows[entry] ?? 0));
  entries.forEach((entry, index) => {
    const finding = findings[index];
    if (finding) out.set(entry, finding);
  });
  return out;
}
