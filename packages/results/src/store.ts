import { open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@nessus-mcp/core/errors';
import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { HOST_FILTER_SOURCES, getFieldValue, matchesCondition } from '@nessus-mcp/schema';
import type { CompiledFilters, FilterCondition, SortKey, SortSpec } from '@nessus-mcp/schema';
import { columnValue } from './columns.js';
import type { DictionaryEntry, LoadedColumn } from './columns.js';
import {
  COLUMNS_FILE,
  DICTIONARIES_FILE,
  HOST_TUPLE_COLUMN,
  MANIFEST_FILE,
  OFFSETS_FILE,
  IN_TEXT_FILE,
  LITERAL_KEY,
  READABLE_STORE_VERSIONS,
  RECORDS_FILE,
  STORE_FORMAT,
  SUMMARY_FILE,
  TEXTS_FILE,
} from './layout.js';
import type { ByteRange, StoreManifest } from './layout.js';
import type { ResultSummary } from './summary.js';

/** Reads closer than this are merged into one, and no read exceeds the cap. */
const READ_GAP_BYTES = 64 * 1024;
const READ_MAX_BYTES = 4 * 1024 * 1024;
/** Recent (filters, sort) selections kept per store, so paging through one query costs one filter pass. */
const DEFAULT_SELECTION_CACHE_SIZE = 16;

export interface ResultStoreOptions {
  /** Selections (matching rows of one filters + sort) remembered per store; 0 re-filters every query. */
  selectionCacheSize?: number;
}

function notReady(message: string, cause?: unknown): AppError {
  return new AppError('not_ready', message, cause === undefined ? {} : { cause });
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A copy into fresh memory, so typed-array views are aligned whatever the Buffer pool did. */
function aligned(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function sameSources(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function isLiteral(value: unknown): value is Record<typeof LITERAL_KEY, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, LITERAL_KEY);
}

/**
 * A stored record as a finding (v2): in text fields, a number is a dictionary code (or, in the
 * text field, the mark that its text is in the text file) and `{"$literal": v}` is `v`.
 */
function unpackRecord(
  record: Record<string, unknown>,
  packed: ReadonlyMap<string, DictionaryEntry[]>,
  textField: string | undefined,
  text: () => string,
): Finding {
  if (packed.size === 0 && textField === undefined) return record as unknown as Finding;
  for (const key in record) {
    const dictionary = packed.get(key);
    if (!dictionary && key !== textField) continue;
    const value = record[key];
    if (isLiteral(value)) record[key] = value[LITERAL_KEY];
    else if (typeof value === 'number') {
      const entry = dictionary ? dictionary[value - 1] : value === IN_TEXT_FILE ? text() : undefined;
      if (entry === undefined) throw notReady('The result store of this task is inconsistent; ingest the export again.');
      record[key] = entry;
    }
  }
  return record as unknown as Finding;
}

/** Reads `length` bytes at `position` into `buffer`, or a larger one it allocates; a short read means a truncated store. */
async function readSpan(handle: FileHandle, buffer: Buffer, position: number, length: number): Promise<Buffer> {
  const target = buffer.byteLength < length ? Buffer.allocUnsafe(Math.max(length, 64 * 1024)) : buffer;
  const { bytesRead } = await handle.read(target, 0, length, position);
  if (bytesRead !== length) throw notReady('The result store of this task is truncated; ingest the export again.');
  return target;
}

export interface FieldReader {
  read: (row: number) => FieldValue;
  /** Dictionary code of the row's value (equal codes, equal values), for dictionary columns. */
  code: ((row: number) => number) | null;
}

interface ReadRange {
  start: number;
  end: number;
  rows: number[];
}

/**
 * An ingested result store, opened read-only. Small fields live in columns loaded on first use;
 * full records are read by byte offset, so a page costs its own records only. Everything it
 * caches is bounded (one entry per column, per sort key, and a small LRU of selections).
 */
export class ResultStore {
  private readonly columns = new Map<string, Promise<LoadedColumn | null>>();
  private readonly orders = new Map<SortKey, Promise<Uint32Array>>();
  private readonly selections = new Map<string, Uint32Array>();
  private packed: Promise<Map<string, DictionaryEntry[]>> | null = null;

  private constructor(
    readonly directory: string,
    readonly manifest: StoreManifest,
    readonly summary: ResultSummary,
    private readonly offsets: Float64Array,
    /** Where each finding's text lies in `texts.txt` (v2), N + 1 entries. */
    private readonly textOffsets: Float64Array | null,
    private readonly selectionCacheSize: number,
  ) {}

  /** Opens the store in `directory` (see `TaskFiles.resultStoreDirectory`); `not_ready` when there is no complete store. */
  static async open(directory: string, options: ResultStoreOptions = {}): Promise<ResultStore> {
    let manifest: StoreManifest;
    try {
      manifest = JSON.parse(await readFile(join(directory, MANIFEST_FILE), 'utf8')) as StoreManifest;
    } catch (error) {
      if (isMissing(error)) throw notReady('The results of this task are not ready: the export has not been ingested yet.');
      throw notReady('The result store of this task is unreadable; ingest the export again.', error);
    }
    if (manifest.format !== STORE_FORMAT || !READABLE_STORE_VERSIONS.includes(manifest.version)) {
      throw notReady(`The result store of this task has format ${String(manifest.format)} v${String(manifest.version)}; ingest the export again.`);
    }
    try {
      const [summaryText, offsetBytes] = await Promise.all([readFile(join(directory, SUMMARY_FILE), 'utf8'), readFile(join(directory, OFFSETS_FILE))]);
      const all = new Float64Array(aligned(offsetBytes));
      const perFile = manifest.findings + 1;
      const expected = manifest.text_field === undefined ? perFile : 2 * perFile;
      if (all.length !== expected) throw new Error(`offsets hold ${all.length} entries for ${manifest.findings} findings`);
      const offsets = all.subarray(0, perFile);
      const textOffsets = manifest.text_field === undefined ? null : all.subarray(perFile);
      const selectionCacheSize = Math.max(0, options.selectionCacheSize ?? DEFAULT_SELECTION_CACHE_SIZE);
      return new ResultStore(directory, manifest, JSON.parse(summaryText) as ResultSummary, offsets, textOffsets, selectionCacheSize);
    } catch (error) {
      throw notReady('The result store of this task is incomplete; ingest the export again.', error);
    }
  }

  get size(): number {
    return this.manifest.findings;
  }

  /** A column, or null when the field is only in the full records. */
  column(field: string): Promise<LoadedColumn | null> {
    let loaded = this.columns.get(field);
    if (!loaded) {
      loaded = this.loadColumn(field);
      this.columns.set(field, loaded);
      loaded.catch(() => this.columns.delete(field));
    }
    return loaded;
  }

  private async loadColumn(field: string): Promise<LoadedColumn | null> {
    const entry = Object.hasOwn(this.manifest.columns, field) ? this.manifest.columns[field] : undefined;
    if (!entry) return null;
    const bytes = await this.readRange(COLUMNS_FILE, entry.values);
    switch (entry.kind) {
      case 'number':
        return { kind: 'number', values: new Float64Array(bytes) };
      case 'boolean':
        return { kind: 'boolean', values: new Int8Array(bytes) };
      case 'dictionary': {
        const text = Buffer.from(entry.dictionary ? await this.readRange(DICTIONARIES_FILE, entry.dictionary) : new ArrayBuffer(0)).toString('utf8');
        return { kind: 'dictionary', codes: new Uint32Array(bytes), dictionary: text === '' ? [] : (JSON.parse(text) as DictionaryEntry[]) };
      }
    }
  }

  /**
   * Reads one field for the given rows: from its column, or, for a field kept only in the
   * records, from those rows' records (read once, here). `code` numbers a dictionary column's
   * distinct values, so a caller can decode each once.
   */
  async fieldReader(field: string, rows: ArrayLike<number>): Promise<FieldReader> {
    const column = await this.column(field);
    if (column) return { read: (row) => columnValue(column, row), code: column.kind === 'dictionary' ? (row) => column.codes[row] ?? 0 : null };
    const values = new Map<number, FieldValue>();
    await this.visitRecords(
      Array.from(rows).sort((a, b) => a - b),
      (row, finding) => values.set(row, getFieldValue(finding, field) ?? null),
    );
    return { read: (row) => values.get(row) ?? null, code: null };
  }

  /** The row of a finding id, or null when the store has no such finding. */
  async rowOf(findingId: string): Promise<number | null> {
    const column = await this.column('finding_id');
    if (column?.kind === 'dictionary') {
      const index = column.dictionary.indexOf(findingId);
      if (index < 0) return null;
      const code = index + 1;
      const row = column.codes.indexOf(code);
      return row < 0 ? null : row;
    }
    let found: number | null = null;
    const all = Array.from({ length: this.size }, (_, row) => row);
    await this.visitRecords(all, (row, finding) => {
      if (found === null && finding.finding_id === findingId) found = row;
    });
    return found;
  }

  /** The dictionaries records refer to (v2), loaded with the first records read. */
  private packedDictionaries(): Promise<Map<string, DictionaryEntry[]>> {
    if (!this.packed) {
      const entries = this.manifest.packed ?? [];
      this.packed = Promise.all(
        entries.map(async ({ field, dictionary }): Promise<[string, DictionaryEntry[]]> => {
          const text = dictionary.length === 0 ? '' : Buffer.from(await this.readRange(DICTIONARIES_FILE, dictionary)).toString('utf8');
          return [field, text === '' ? [] : (JSON.parse(text) as DictionaryEntry[])];
        }),
      ).then((pairs) => new Map(pairs));
      this.packed.catch(() => {
        this.packed = null;
      });
    }
    return this.packed;
  }

  /** One byte range of a store file, in fresh (aligned) memory. */
  private async readRange(file: string, range: ByteRange): Promise<ArrayBuffer> {
    const handle = await this.read(() => open(join(this.directory, file), 'r'));
    try {
      const buffer = new Uint8Array(new ArrayBuffer(range.length));
      const { bytesRead } = await handle.read(buffer, 0, range.length, range.offset);
      if (bytesRead !== range.length) throw notReady('The result store of this task is truncated; ingest the export again.');
      return buffer.buffer;
    } finally {
      await handle.close();
    }
  }

  /** File reads map a vanished store (re-ingested or deleted meanwhile) to `not_ready`. */
  private async read<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (isMissing(error)) throw notReady('The result store of this task changed while being read; retry.', error);
      throw error;
    }
  }

  /** Rows (document ordinals) matching the filters, in the sort's order. */
  async select(filters: CompiledFilters, sort: SortSpec | null): Promise<Uint32Array> {
    const key = JSON.stringify([Object.entries(filters.normalised).sort(([a], [b]) => (a < b ? -1 : 1)), sort?.key ?? null]);
    const cached = this.selections.get(key);
    if (cached) {
      this.selections.delete(key);
      this.selections.set(key, cached);
      return cached;
    }
    const mask = await this.match(filters);
    const order = sort ? await this.order(sort) : null;
    let count = 0;
    for (let row = 0; row < mask.length; row += 1) count += mask[row] ?? 0;
    const rows = new Uint32Array(count);
    let next = 0;
    for (let i = 0; i < this.size; i += 1) {
      const row = order ? (order[i] ?? 0) : i;
      if (mask[row] === 1) rows[next++] = row;
    }
    if (this.selectionCacheSize > 0) this.selections.set(key, rows);
    if (this.selections.size > this.selectionCacheSize) {
      const oldest = this.selections.keys().next();
      if (!oldest.done) this.selections.delete(oldest.value);
    }
    return rows;
  }

  private async match(filters: CompiledFilters): Promise<Uint8Array> {
    const mask = new Uint8Array(this.size).fill(1);
    const slow: FilterCondition[] = [];
    for (const condition of filters.conditions) {
      if (!(await this.applyOnColumn(condition, mask))) slow.push(condition);
    }
    if (slow.length === 0) return mask;
    // Conditions on fields kept only in the records: read just the rows still in the running.
    const candidates: number[] = [];
    for (let row = 0; row < mask.length; row += 1) if (mask[row] === 1) candidates.push(row);
    await this.visitRecords(candidates, (row, finding) => {
      if (!slow.every((condition) => matchesCondition(finding, condition))) mask[row] = 0;
    });
    return mask;
  }

  /** ANDs the condition into the mask from a column; false when no column can decide it. */
  private async applyOnColumn(condition: FilterCondition, mask: Uint8Array): Promise<boolean> {
    const isHost = sameSources(condition.sources, HOST_FILTER_SOURCES);
    const source = isHost ? HOST_TUPLE_COLUMN : condition.sources.length === 1 ? condition.sources[0] : undefined;
    const column = source === undefined ? null : await this.column(source);
    if (!column) return false;
    const single: (FieldValue | undefined)[] = [null];
    const test = (value: FieldValue): boolean => {
      single[0] = value;
      return condition.matches(single);
    };
    switch (column.kind) {
      case 'number': {
        const values = column.values;
        for (let row = 0; row < mask.length; row += 1) {
          if (mask[row] === 1 && !test(Number.isNaN(values[row] ?? Number.NaN) ? null : (values[row] ?? null))) mask[row] = 0;
        }
        return true;
      }
      case 'boolean': {
        const outcome = new Map<number, boolean>([
          [-1, test(null)],
          [0, test(false)],
          [1, test(true)],
        ]);
        const values = column.values;
        for (let row = 0; row < mask.length; row += 1) if (!outcome.get(values[row] ?? -1)) mask[row] = 0;
        return true;
      }
      case 'dictionary': {
        // Decide once per distinct value (entry 0 is null), then scan integer codes.
        const accepted = new Uint8Array(column.dictionary.length + 1);
        accepted[0] = isHost ? 0 : test(null) ? 1 : 0;
        column.dictionary.forEach((entry, index) => {
          const ok = isHost && Array.isArray(entry) ? condition.matches(entry.map((part) => (part === '' ? null : part))) : test(entry);
          accepted[index + 1] = ok ? 1 : 0;
        });
        const codes = column.codes;
        for (let row = 0; row < mask.length; row += 1) if (accepted[codes[row] ?? 0] === 0) mask[row] = 0;
        return true;
      }
    }
  }

  /** The permutation of all rows for a sort key, built once per store. */
  private order(sort: SortSpec): Promise<Uint32Array> {
    let order = this.orders.get(sort.key);
    if (!order) {
      order = this.buildOrder(sort);
      this.orders.set(sort.key, order);
      order.catch(() => this.orders.delete(sort.key));
    }
    return order;
  }

  private async buildOrder(sort: SortSpec): Promise<Uint32Array> {
    const rows = new Uint32Array(this.size);
    for (let row = 0; row < rows.length; row += 1) rows[row] = row;
    const columns = await Promise.all(sort.fields.map((field) => this.column(field)));
    const first = columns[0];
    if (columns.length === 1 && first?.kind === 'dictionary') {
      // Rank the distinct values once (host names compare by parsed address, which is costly).
      const entries: (DictionaryEntry | null)[] = [null, ...first.dictionary];
      const byValue = entries.map((_, index) => index).sort((a, b) => sort.compare([entries[a] ?? null], [entries[b] ?? null]));
      const rank = new Uint32Array(entries.length);
      byValue.forEach((code, position) => {
        rank[code] = position;
      });
      const codes = first.codes;
      return rows.sort((a, b) => (rank[codes[a] ?? 0] ?? 0) - (rank[codes[b] ?? 0] ?? 0) || a - b);
    }
    const keys: (FieldValue | undefined)[][] = [];
    if (columns.every((column) => column !== null)) {
      for (let row = 0; row < this.size; row += 1) keys.push(columns.map((column) => (column ? columnValue(column, row) : null)));
    } else {
      const all = Array.from({ length: this.size }, (_, row) => row);
      await this.visitRecords(all, (row, finding) => {
        keys[row] = sort.fields.map((field) => getFieldValue(finding, field));
      });
    }
    return rows.sort((a, b) => sort.compare(keys[a] ?? [], keys[b] ?? []) || a - b);
  }

  /** Full findings for the given rows, in the given order. */
  async findings(rows: ArrayLike<number>): Promise<Finding[]> {
    const wanted = Array.from(rows);
    const byRow = new Map<number, Finding>();
    await this.visitRecords(
      [...wanted].sort((a, b) => a - b),
      (row, finding) => byRow.set(row, finding),
    );
    return wanted.map((row) => {
      const finding = byRow.get(row);
      if (!finding) throw new AppError('internal', `result store row ${row} is missing`);
      return finding;
    });
  }

  /** Reads the records of ascending rows, merging nearby rows into large sequential reads. */
  private async visitRecords(ascendingRows: readonly number[], visit: (row: number, finding: Finding) => void): Promise<void> {
    if (ascendingRows.length === 0) return;
    const ranges: ReadRange[] = [];
    let current: ReadRange | null = null;
    const textOffsets = this.textOffsets;
    /** Whether a row joins the current read: near enough, and neither read grows too large (texts included). */
    const joins = (range: ReadRange, row: number, start: number, end: number): boolean => {
      if (start - range.end > READ_GAP_BYTES || end - range.start > READ_MAX_BYTES) return false;
      if (!textOffsets) return true;
      const previous = range.rows[range.rows.length - 1] ?? row;
      const textStart = textOffsets[range.rows[0] ?? row] ?? 0;
      return (textOffsets[row] ?? 0) - (textOffsets[previous + 1] ?? 0) <= READ_GAP_BYTES && (textOffsets[row + 1] ?? 0) - textStart <= READ_MAX_BYTES;
    };
    for (const row of ascendingRows) {
      const start = this.offsets[row] ?? 0;
      const end = this.offsets[row + 1] ?? start;
      if (current && joins(current, row, start, end)) {
        current.end = end;
        current.rows.push(row);
      } else {
        current = { start, end, rows: [row] };
        ranges.push(current);
      }
    }
    const packed = await this.packedDictionaries();
    const textField = this.manifest.text_field;
    const handle: FileHandle = await this.read(() => open(join(this.directory, RECORDS_FILE), 'r'));
    let textHandle: FileHandle | null = null;
    try {
      if (textOffsets) textHandle = await this.read(() => open(join(this.directory, TEXTS_FILE), 'r'));
      let buffer: Buffer = Buffer.alloc(0);
      let textBuffer: Buffer = Buffer.alloc(0);
      for (const range of ranges) {
        buffer = await readSpan(handle, buffer, range.start, range.end - range.start);
        // The texts of the same rows, read as one span as well.
        const first = range.rows[0] ?? 0;
        const last = range.rows[range.rows.length - 1] ?? first;
        const textStart = textOffsets?.[first] ?? 0;
        if (textOffsets && textHandle) textBuffer = await readSpan(textHandle, textBuffer, textStart, (textOffsets[last + 1] ?? textStart) - textStart);
        for (const row of range.rows) {
          const from = (this.offsets[row] ?? 0) - range.start;
          const to = (this.offsets[row + 1] ?? 0) - range.start;
          const text = (): string => textBuffer.toString('utf8', (textOffsets?.[row] ?? 0) - textStart, (textOffsets?.[row + 1] ?? 0) - textStart);
          visit(row, unpackRecord(JSON.parse(buffer.toString('utf8', from, to)) as Record<string, unknown>, packed, textField, text));
        }
      }
    } finally {
      await handle.close();
      await textHandle?.close();
    }
  }
}

/** Opens a task's store without caching (see `ResultStoreCache` for serving). */
export function openResultStore(directory: string, options: ResultStoreOptions = {}): Promise<ResultStore> {
  return ResultStore.open(directory, options);
}

/** The store's `summary.json`; `not_ready` until an ingest completed. */
export async function readResultSummary(directory: string): Promise<ResultSummary> {
  try {
    await stat(join(directory, MANIFEST_FILE));
    return JSON.parse(await readFile(join(directory, SUMMARY_FILE), 'utf8')) as ResultSummary;
  } catch (error) {
    if (isMissing(error)) throw notReady('The results of this task are not ready: the export has not been ingested yet.');
    throw error;
  }
}
