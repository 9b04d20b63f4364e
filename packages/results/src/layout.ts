import { join } from 'node:path';
import type { ColumnKind } from './columns.js';

/**
 * On-disk layout, inside the task directory (beside `report.nessus`):
 *
 *   results/manifest.json    written last; a store without it is never read
 *   results/summary.json     ResultSummary
 *   results/findings.ndjson  every finding in full, one JSON object per line, document order
 *   results/offsets.f64      N+1 little-endian float64 byte offsets of those lines
 *   results/columns.bin      one typed array per catalogued field, back to back, 8-byte aligned (see columns.ts)
 *   results/dictionaries.bin the dictionaries of the dictionary columns, one JSON array each, back to back
 *
 * Columns share two files (byte ranges in the manifest) rather than a file each: every file
 * costs an fsync at ingest, and a hundred of them doubled the ingest time of a 13 MB export.
 * Ingest builds all of it in `.results-tmp-*` and renames the directory into place.
 */
export const RESULTS_DIR = 'results';
export const TEMP_PREFIX = '.results-tmp-';
export const RETIRED_PREFIX = '.results-old-';
export const MANIFEST_FILE = 'manifest.json';
export const SUMMARY_FILE = 'summary.json';
export const RECORDS_FILE = 'findings.ndjson';
export const OFFSETS_FILE = 'offsets.f64';
export const COLUMNS_FILE = 'columns.bin';
export const DICTIONARIES_FILE = 'dictionaries.bin';
export const STORE_FORMAT = 'nessus-mcp-results';
export const STORE_VERSION = 1;

/** Internal column holding (host, host_ip, host_fqdn) as one value, so the `host` filter is decided once per machine. */
export const HOST_TUPLE_COLUMN = '$host';

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ColumnEntry {
  kind: ColumnKind;
  /** Where the typed array lies in `columns.bin`. */
  values: ByteRange;
  /** Where its dictionary lies in `dictionaries.bin`, for dictionary columns. */
  dictionary?: ByteRange;
}

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  version: number;
  /** Random per ingest: a reader caching a store notices a re-ingest. */
  store_id: string;
  created_at: string;
  findings: number;
  records_bytes: number;
  columns: Record<string, ColumnEntry>;
  /** Catalogued fields kept only in the full records (mostly unique text): filters on them read records. */
  unindexed: string[];
}

export function resultsDir(taskDir: string): string {
  return join(taskDir, RESULTS_DIR);
}
