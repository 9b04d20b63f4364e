export { FIELD_NAMES, FILTERABLE_FIELDS, fieldTypeOf, getFieldValue } from './catalogue.js';
export { DEFAULT_PROFILE, PROFILE_FIELDS, PROFILE_NAMES, projectFinding, resolveProjection } from './profiles.js';
export type { ProfileName, Projection } from './profiles.js';
export { HOST_FILTER_SOURCES, applyFilters, compileFilters, filterObject, matchesCondition, matchesFilters } from './filters.js';
export type { CompiledFilters, FilterCondition, NormalisedFilterTerm, NormalisedFilterValue, NormalisedFilters } from './filters.js';
export { SORT_KEYS, compareHosts, resolveSort, sortFindings } from './sort.js';
export type { SortKey, SortSpec } from './sort.js';
export { DEFAULT_PAGE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, pageWindow, resolvePage, resolvePageSize } from './pagination.js';
export type { PageWindow } from './pagination.js';
export { jsonLine, paginationLine, scanMetadataLine, schemaLine, vulnerabilityLine } from './jsonnl.js';
export type { AuthenticationStatus, ComplianceBreakdown, ScanFacts, SchemaLineInput, SeverityBreakdown, TaskMetadata } from './jsonnl.js';
export { RESULTS_CURSOR_KIND, renderResultLines, resolveResultQuery, resultEnvelope } from './query.js';
export type { CursorContext, CursorQuery, ResultEnvelope, ResultQuery, ResultQueryInput } from './query.js';
export { CursorCodec, MAX_CURSOR_LENGTH } from './cursor.js';
export type { PageCursor } from './cursor.js';
export { cleanUntrustedText, cleanUntrustedValue, firstUnsafeCodePoint, hasUnsafeText } from './untrusted-text.js';
export {
  cursorParam,
  customFieldsParam,
  decimalQueryNumber,
  filtersParam,
  pageParam,
  pageSizeParam,
  resultQuerySchema,
  resultQueryShape,
  resultQueryShapeLike,
  resultQueryStringSchema,
  schemaProfileParam,
  sortParam,
} from './params.js';
export type { ResultQueryParams } from './params.js';
export { csvCell, csvColumns, csvHeader, csvRecord, csvRow } from './csv.js';
