import type { FieldType, FieldValue } from '@nessus-mcp/nessus-parser';

/**
 * Compact per-field columns of the store, one entry per finding in document order. Filters and
 * sorts run on these without touching the full records:
 * - `number`: float64, NaN for null;
 * - `boolean`: int8, -1 null, 0 false, 1 true;
 * - `dictionary`: uint32 codes into a table of distinct values (code 0 is null). Text repeats a
 *   lot in an export (a plugin's description is the same on every host), so a filter tests each
 *   distinct value once and then scans integers.
 */
export type ColumnKind = 'number' | 'boolean' | 'dictionary';

export type DictionaryEntry = string | string[];

export function columnKindOf(type: FieldType): ColumnKind | null {
  switch (type) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
    case 'date':
    case 'string[]':
      return 'dictionary';
    case 'object':
      return null;
  }
}

/**
 * Typed array that grows by doubling. Rows are set by index and rows never set keep the
 * null value, so ingest only touches the fields a finding actually has (about a third).
 */
class Growable<T extends Float64Array | Int8Array | Uint32Array> {
  constructor(
    private array: T,
    private readonly make: (size: number) => T,
    private readonly nullValue: number,
  ) {
    this.array.fill(nullValue);
  }

  set(row: number, value: number): void {
    if (row >= this.array.length) {
      let size = this.array.length * 2;
      while (size <= row) size *= 2;
      const bigger = this.make(size);
      bigger.fill(this.nullValue, this.array.length);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[row] = value;
  }

  /** The first `rows` entries, as bytes ready to write. */
  bytes(rows: number): Uint8Array {
    if (rows > this.array.length) this.set(rows - 1, this.nullValue);
    return new Uint8Array(this.array.buffer, 0, rows * this.array.BYTES_PER_ELEMENT);
  }
}

export interface ColumnBuilder {
  readonly kind: ColumnKind;
  /**
   * `group` names where the value likely repeats, as a small dense number (ingest numbers each
   * plugin, whose description is the same on every host, or each host); it only speeds up
   * dictionary columns.
   * Returns the dictionary code that reproduces the value exactly (a string or a list of
   * strings), or 0 when the column cannot give the value back as it was.
   */
  set(row: number, value: FieldValue | undefined, group?: number): number;
  bytes(rows: number): Uint8Array;
  /** Distinct values for dictionary columns (entry 0 is null). */
  dictionary(): DictionaryEntry[] | null;
  /** Characters held by the dictionary so far: the ingest drops columns whose text is mostly unique. */
  dictionaryChars(): number;
}

const INITIAL = 1024;

class NumberColumnBuilder implements ColumnBuilder {
  readonly kind = 'number';
  private readonly values = new Growable(new Float64Array(INITIAL), (n) => new Float64Array(n), Number.NaN);
  set(row: number, value: FieldValue | undefined): number {
    this.values.set(row, typeof value === 'number' ? value : Number.NaN);
    return 0;
  }
  bytes(rows: number): Uint8Array {
    return this.values.bytes(rows);
  }
  dictionary(): null {
    return null;
  }
  dictionaryChars(): number {
    return 0;
  }
}

class BooleanColumnBuilder implements ColumnBuilder {
  readonly kind = 'boolean';
  private readonly values = new Growable(new Int8Array(INITIAL), (n) => new Int8Array(n), -1);
  set(row: number, value: FieldValue | undefined): number {
    this.values.set(row, value === true ? 1 : value === false ? 0 : -1);
    return 0;
  }
  bytes(rows: number): Uint8Array {
    return this.values.bytes(rows);
  }
  dictionary(): null {
    return null;
  }
  dictionaryChars(): number {
    return 0;
  }
}

const EMPTY_LIST_KEY = '\u0000[]';

function sameEntry(a: DictionaryEntry, b: FieldValue | undefined): boolean {
  if (typeof a === 'string') return a === b;
  if (!Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

class DictionaryColumnBuilder implements ColumnBuilder {
  readonly kind = 'dictionary';
  private readonly codes = new Growable(new Uint32Array(INITIAL), (n) => new Uint32Array(n), 0);
  private readonly lookup = new Map<string, number>();
  private readonly entries: DictionaryEntry[] = [];
  /**
   * The last code seen per group (a small dense number: the caller numbers plugins and hosts in
   * order of appearance). Comparing a value with the last one of its plugin is a plain string
   * comparison, where the lookup map would hash the whole text (descriptions run to kilobytes).
   */
  private readonly lastByGroup: number[] = [];
  private chars = 0;

  set(row: number, value: FieldValue | undefined, group?: number): number {
    const exact = typeof value === 'string' || Array.isArray(value);
    if (group !== undefined && exact) {
      const last = this.lastByGroup[group];
      if (last !== undefined && sameEntry(this.entries[last - 1]!, value)) {
        this.codes.set(row, last);
        return last;
      }
    }
    let key: string;
    let entry: DictionaryEntry;
    if (typeof value === 'string') {
      key = value;
      entry = value;
    } else if (Array.isArray(value)) {
      // \u0001 cannot occur in XML text, so joined lists never collide with a plain string.
      key = value.length === 0 ? EMPTY_LIST_KEY : `\u0001${value.join('\u0001')}`;
      entry = value;
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      key = String(value);
      entry = key;
    } else {
      this.codes.set(row, 0);
      return 0;
    }
    let code = this.lookup.get(key);
    if (code === undefined) {
      this.entries.push(entry);
      code = this.entries.length;
      this.lookup.set(key, code);
      this.chars += key.length;
    }
    if (group !== undefined && exact) this.lastByGroup[group] = code;
    this.codes.set(row, code);
    // A number or boolean in a text column is kept as its text: not the value as it was.
    return exact ? code : 0;
  }

  bytes(rows: number): Uint8Array {
    return this.codes.bytes(rows);
  }
  dictionary(): DictionaryEntry[] {
    return this.entries;
  }
  dictionaryChars(): number {
    return this.chars;
  }
}

export function createColumnBuilder(kind: ColumnKind): ColumnBuilder {
  switch (kind) {
    case 'number':
      return new NumberColumnBuilder();
    case 'boolean':
      return new BooleanColumnBuilder();
    case 'dictionary':
      return new DictionaryColumnBuilder();
  }
}

/** A column read back from disk. */
export type LoadedColumn =
  { kind: 'number'; values: Float64Array } | { kind: 'boolean'; values: Int8Array } | { kind: 'dictionary'; codes: Uint32Array; dictionary: DictionaryEntry[] };

/** The value a filter or sort sees for one row (null where the finding had none). */
export function columnValue(column: LoadedColumn, row: number): FieldValue {
  switch (column.kind) {
    case 'number': {
      const value = column.values[row] ?? Number.NaN;
      return Number.isNaN(value) ? null : value;
    }
    case 'boolean': {
      const value = column.values[row];
      return value === 1 ? true : value === 0 ? false : null;
    }
    case 'dictionary': {
      const code = column.codes[row] ?? 0;
      return code === 0 ? null : (column.dictionary[code - 1] ?? null);
    }
  }
}
