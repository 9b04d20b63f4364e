export { ingestExport } from './ingest.js';
export type { IngestOptions } from './ingest.js';
export { ResultStore, openResultStore, readResultSummary } from './store.js';
export type { ResultStoreOptions } from './store.js';
export { ResultStoreCache } from './store-cache.js';
export type { ResultStoreCacheOptions } from './store-cache.js';
export { queryResults } from './query.js';
export type { QueryResultsOptions, ResultPage } from './query.js';
export { resultFiguresOf, scanFactsOf } from './summary.js';
export type { ResultSummary } from './summary.js';
export type { AuthenticationEvidence, CredentialSignal } from './authentication.js';
export { LocalTaskFiles } from './task-files.js';
export type { OpenedExport, StoredFingerprint, StoreWorkspace, TaskFiles } from './task-files.js';
export { openTaskFiles } from './open-task-files.js';
export type { OpenedTaskFiles, TaskFilesConfig } from './open-task-files.js';
export type { StoreManifest } from './layout.js';
export { FINGERPRINT_FIELDS, FingerprintBuilder, Fingerprints, identityHost, postingsOf } from './fingerprints.js';
export type { FingerprintFinding } from './fingerprints.js';
export { CHANGE_CLASSES, diffFingerprints, emptyCounts } from './delta.js';
export type { ChangeClass, ChangeCounts, Delta } from './delta.js';
export { DELTA_CURSOR_KIND, renderDeltaPage, resolveCompareQuery, selectDelta } from './compare.js';
export type {
  CompareQueryInput,
  CompareSide,
  DeltaCounts,
  DeltaPage,
  DeltaSelection,
  DeltaSummaryFacts,
  ResolvedCompareQuery,
  SeverityByChange,
} from './compare.js';
export { ComparisonCache } from './comparison-cache.js';
export type { ComparisonCacheOptions } from './comparison-cache.js';
export { GROUP_BY_KEYS, SEVERITY_LABELS, groupFindings } from './grouping.js';
export type { FindingGroup, GroupBy, GroupOptions, GroupRisk, GroupedFindings, SeverityCounts } from './grouping.js';
export type { FieldReader } from './store.js';
