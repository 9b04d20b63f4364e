export { NessusMcpClient, DEFAULT_URL, isTerminalStatus } from './client.js';
export type { CallOptions } from './client.js';
export { NessusMcpError, isNessusMcpError } from './errors.js';
export type { NessusMcpErrorOptions } from './errors.js';
export { parseJsonLines, parseResultsPage } from './jsonnl.js';
export type { JsonLine } from './jsonnl.js';
export * from './types.js';
export { CHANGE_CLASSES, parseDeltaPage, parseSearchPage } from './cross-scan.js';
export type {
  ChangeClass,
  ChangeCounts,
  CompareQuery,
  DeltaPage,
  DeltaSummary,
  DeltaVulnerability,
  Occurrence,
  SearchPage,
  SearchQuery,
} from './cross-scan.js';
