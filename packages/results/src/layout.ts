import type { ColumnKind } from './columns.js';

/**
 * The files of a result store, inside its directory (where that directory is, and how a new
 * store replaces the old one, is the business of task-files.ts):
 *
 *   manifest.json    written last; a store without it is never read
 *   summary.json     ResultSummary
 *   findings.ndjson  every finding, one JSON object per line, document order. Since v2 a
 *                    text field is written as its code in the field's dictionary (a
 *                    number; `{"$literal": v}` wraps a non-text value) and plugin output
 *                    as 0, its text being in texts.txt; v1 lines hold every field as is
 *   texts.txt        v2: each finding's plugin output, UTF-8, back to back
 *   offsets.f64      N+1 little-endian float64 byte offsets of the lines, then (v2) N+1
 *                    of the texts
 *   columns.bin      one typed array per catalogued field, back to back, 8-byte aligned (see columns.ts)
 *   dictionaries.bin the dictionaries of the dictionary columns, one JSON array each, back to back
 *
 * Columns share two files (byte ranges in the manifest) rather than a file each: every file
 * costs an fsync at ingest, and a hundred of them doubled the ingest time of a 13 MB export.
 */
export const MANIFEST_FILE = 'manifest.json';
export const SUMMARY_FILE = 'summary.json';
export const RECORDS_FILE = 'findings.ndjson';
export const OFFSETS_FILE = 'offsets.f64';
export const COLUMNS_FILE = 'columns.bin';
export const DICTIONARIES_FILE = 'dictionaries.bin';
export const TEXTS_FILE = 'texts.txt';
/** The field kept in the text file: mostly unique per finding, and most of an export's bytes. */
export const TEXT_FIELD = 'plugin_output';
/** A record's value for its text field when the text file holds it (dictionary codes start at 1). */
export const IN_TEXT_FILE = 0;
export const STORE_FORMAT = 'nessus-mcp-results';
export const STORE_VERSION = 2;
/** Versions this code reads: v1 records carry every field themselves. */
export const READABLE_STORE_VERSIONS: readonly number[] = [1, 2];
/** Wraps a value of a text field that is not text, so a reader never takes it for a code. */
export const LITERAL_KEY = '$literal';

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
  /** v2: the field whose text is in `texts.txt`, and that file's size. */
  text_field?: string;
  text_bytes?: number;
  columns: Record<string, ColumnEntry>;
  /** Catalogued fields kept only in the full records (mostly unique text): filters on them read records. */
  unindexed: string[];
  /** v2: the text fields whose values records give as dictionary codes (absent in v1). */
  packed?: PackedField[];
}

export interface PackedField {
  field: string;
  /** Its dictionary in `dictionaries.bin` (the same range as its column's, when it has one). */
  dictionary: ByteRange;
}
