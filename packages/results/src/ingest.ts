import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { FIELD_TYPES, parseNessus } from '@nessus-mcp/nessus-parser';
import type { FieldValue, Finding, HostInfo, ParseEvent, ParseOptions, ParseSummary, ScanInfo } from '@nessus-mcp/nessus-parser';
import { SORT_KEYS, getFieldValue, resolveSort } from '@nessus-mcp/schema';
import { AuthenticationTracker } from './authentication.js';
import { columnKindOf, createColumnBuilder } from './columns.js';
import type { ColumnBuilder } from './columns.js';
import { FingerprintBuilder } from './fingerprints.js';
import {
  COLUMNS_FILE,
  DICTIONARIES_FILE,
  HOST_TUPLE_COLUMN,
  MANIFEST_FILE,
  OFFSETS_FILE,
  IN_TEXT_FILE,
  LITERAL_KEY,
  RECORDS_FILE,
  STORE_FORMAT,
  STORE_VERSION,
  SUMMARY_FILE,
  TEXTS_FILE,
  TEXT_FIELD,
} from './layout.js';
import type { ByteRange, ColumnEntry, PackedField, StoreManifest } from './layout.js';
import { FindingTally } from './summary.js';
import type { ResultSummary } from './summary.js';
import type { StoreWorkspace, TaskFiles } from './task-files.js';

export interface IngestOptions {
  /** Where the task's export is read from and its result store is written to. */
  files: TaskFiles;
  taskId: string;
  /** Aborting stops the ingest and removes its partial output; an existing store is left untouched. */
  signal?: AbortSignal;
  /** Whether credentials were given to the scan (trusted/privileged); inferred from the export when omitted. */
  credentialed?: boolean;
  /**
   * Passed to the parser. By default an export of 8 MiB or more is parsed on one worker thread
   * while this thread builds the store (when the machine has a second core), and smaller ones
   * on this thread. Whatever the mode, the count check below refuses a store missing findings.
   */
  parseOptions?: ParseOptions;
  /**
   * A text column whose distinct values exceed this many characters is not indexed (its
   * filters read the full records instead): mostly-unique text would cost memory for nothing.
   */
  maxDictionaryChars?: number;
  /**
   * Parse events to ingest instead of parsing the export (which is still measured for
   * `file_size_kb`). The ingest consumes them: findings are rewritten into store records.
   */
  events?: AsyncIterable<ParseEvent>;
}

const DEFAULT_MAX_DICTIONARY_CHARS = 8 * 1024 * 1024;
/** Plugin output is close to unique per finding: indexing it would only copy the records. */
const NEVER_INDEXED = new Set([TEXT_FIELD]);
/** Sort reads these from columns, so they are kept whatever their size. */
const ALWAYS_INDEXED = new Set(SORT_KEYS.flatMap((key) => resolveSort(key)?.fields ?? []));
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Appends lines of text to a file through two large buffers used in turn: one fills while the
 * other is being written. Text is encoded straight into the buffer, and the buffers are reused,
 * so ingest neither allocates per line nor touches fresh memory per batch (first-touch page
 * faults cost as much as the encoding itself).
 */
class TextWriter {
  private buffer: Buffer = Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  private spare: Buffer | null = Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  private used = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Appends the text and a newline; returns the bytes written. */
  writeLine(text: string): Promise<number> {
    return this.write(text, true);
  }

  /** Appends the text (and a newline when asked); returns the bytes written. */
  async write(text: string, newline = false): Promise<number> {
    const end = newline ? 1 : 0;
    // Counting UTF-8 bytes is fast, and text that is all ASCII (most of it) is then copied as
    // Latin-1, a fifth of the cost of encoding it as UTF-8.
    const size = Buffer.byteLength(text, 'utf8');
    if (this.used + size + end > this.buffer.byteLength) {
      await this.flush();
      if (size + end > this.buffer.byteLength) {
        const bytes = Buffer.from(newline ? `${text}\n` : text, 'utf8');
        await this.writeAt(bytes, bytes.byteLength);
        return bytes.byteLength;
      }
    }
    this.buffer.write(text, this.used, size, size === text.length ? 'latin1' : 'utf8');
    if (newline) this.buffer[this.used + size] = NEWLINE;
    this.used += size + end;
    return size + end;
  }

  private async writeAt(bytes: Uint8Array, length: number): Promise<void> {
    const at = this.position;
    this.position += length;
    await this.handle.write(bytes, 0, length, at);
  }

  /** Starts writing the filled buffer and switches to the spare once its own write is done. */
  private async flush(): Promise<void> {
    await this.inFlight;
    if (this.used === 0) return;
    const full = this.buffer;
    this.inFlight = this.writeAt(full, this.used).then(() => {
      this.spare = full;
    });
    this.buffer = this.spare ?? Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
    this.spare = null;
    this.used = 0;
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.inFlight;
    await this.handle.sync();
  }
}

async function writeDurably(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface ColumnPlan {
  field: string;
  read: (finding: Finding) => FieldValue | undefined;
  /** The column filters use; null once its text proved too varied to index. */
  builder: ColumnBuilder | null;
  /**
   * For text fields, whose values records carry as dictionary codes: the builder holding the
   * dictionary, which outlives a dropped column (earlier rows refer to it).
   */
  packed: ColumnBuilder | null;
  /** Which finding's value this one most likely repeats: the last of its host, or of its plugin. */
  repeatsPer: 'host' | 'plugin';
}

/** Below this, a parse thread costs more to start than it saves. */
const PARSE_THREAD_MIN_BYTES = 8 * 1024 * 1024;

/**
 * Parser threads for an ingest. Building the store is about half as much work again as parsing,
 * all of it on this thread, so parsing on one worker thread beside it overlaps the two: on a
 * 2-core machine that took a 250 MB export from 1.4-1.9x the bare parse's time to 0.9-1.45x
 * (noisy shared machine), for about 1.5x the CPU time.
 */
function ingestParseWorkers(exportSize: number | null): number {
  if (availableParallelism() < 2) return 0;
  return (exportSize ?? 0) >= PARSE_THREAD_MIN_BYTES ? 1 : 0;
}

/** Fields that describe the host, repeated on each of its findings (the others follow the plugin). */
const HOST_FIELDS = new Set(['host', 'host_ip', 'host_fqdn', 'netbios_name', 'operating_system']);

function planColumns(): ColumnPlan[] {
  const plans: ColumnPlan[] = [];
  for (const [field, type] of Object.entries(FIELD_TYPES)) {
    const kind = columnKindOf(type);
    if (!kind || NEVER_INDEXED.has(field)) continue;
    const read = (finding: Finding) => getFieldValue(finding, field);
    const builder = createColumnBuilder(kind);
    const packs = kind === 'dictionary' && !field.includes('.');
    plans.push({ field, read, builder, packed: packs ? builder : null, repeatsPer: HOST_FIELDS.has(field) ? 'host' : 'plugin' });
  }
  return plans;
}

/** The columns filled while findings stream past; a text column that grows too varied is dropped. */
class ColumnSet {
  readonly plans = planColumns();
  /** (host, host_ip, host_fqdn) per finding, so the `host` filter is decided once per machine. */
  readonly hostTuples = createColumnBuilder('dictionary');
  /** Catalogued fields left to the full records. */
  readonly unindexed = new Set(NEVER_INDEXED);
  readonly plain = new Map(this.plans.filter((plan) => !plan.field.includes('.')).map((plan) => [plan.field, plan]));
  /** Nested fields (`compliance.*`): only compliance findings have them. */
  readonly dotted = this.plans.filter((plan) => plan.field.includes('.'));

  constructor(private readonly maxDictionaryChars: number) {}

  /** Adds the value to the plan's column; returns its dictionary code when the record may carry that instead. */
  add(plan: ColumnPlan, row: number, value: FieldValue | undefined, group?: number): number {
    const builder = plan.builder;
    if (!builder) return 0;
    const code = builder.set(row, value, group);
    if (builder.dictionaryChars() > this.maxDictionaryChars && !ALWAYS_INDEXED.has(plan.field)) {
      plan.builder = null;
      this.unindexed.add(plan.field);
    }
    return plan.packed ? code : 0;
  }

  /** Every column kept, the host tuples first. */
  kept(): { field: string; builder: ColumnBuilder }[] {
    const kept = [{ field: HOST_TUPLE_COLUMN, builder: this.hostTuples }];
    for (const plan of this.plans) if (plan.builder) kept.push({ field: plan.field, builder: plan.builder });
    return kept;
  }
}

/** What streaming the findings into `findings.ndjson` and `texts.txt` learnt. */
interface RecordsWritten {
  scan: ScanInfo | null;
  parseSummary: ParseSummary;
  findings: number;
  recordsBytes: number;
  textBytes: number;
  /** N + 1 byte offsets of the records, then N + 1 of the texts. */
  offsets: number[];
  textOffsets: number[];
}

/**
 * Rewrites a finding into its store record, in place, and fills the columns from it: text fields
 * become their dictionary codes, which spares serialising the same description for every host,
 * and the plugin output moves to the text file as it is (no JSON escaping). Returns that text.
 * Fields the finding lacks stay null in their columns.
 */
function packRecord(finding: Finding, row: number, columns: ColumnSet, pluginSlot: number): string {
  columns.hostTuples.set(row, [finding.host, finding.host_ip ?? '', finding.host_fqdn ?? '']);
  if (finding.compliance) for (const plan of columns.dotted) columns.add(plan, row, plan.read(finding));
  let text = '';
  const record = finding as Record<string, unknown>;
  for (const key in finding) {
    const value = finding[key];
    const plan = columns.plain.get(key);
    if (plan) {
      const code = columns.add(plan, row, value, plan.repeatsPer === 'host' ? finding.host_index : pluginSlot);
      if (code !== 0) record[key] = code;
      // Text fields hold text; anything else is wrapped so it cannot pass for a code.
      else if (plan.packed && value !== null && typeof value !== 'string' && !Array.isArray(value)) record[key] = { [LITERAL_KEY]: value };
    } else if (key === TEXT_FIELD) {
      if (typeof value === 'string') {
        text = value;
        record[key] = IN_TEXT_FILE;
      } else if (value !== null) record[key] = { [LITERAL_KEY]: value };
    }
  }
  return text;
}

/** What sees every host and finding as they stream past, before a finding is rewritten into its record. */
interface IngestObserver {
  host(host: HostInfo): void;
  finding(finding: Finding): void;
}

/** Streams the parse events into the records and text files, filling the columns and the tallies. */
async function writeRecords(
  events: AsyncIterable<ParseEvent>,
  storeDir: string,
  columns: ColumnSet,
  observe: IngestObserver,
  signal?: AbortSignal,
): Promise<RecordsWritten> {
  const offsets: number[] = [0];
  const textOffsets: number[] = [0];
  /** Dense numbers for plugins in order of appearance, a repeat group of the dictionaries (hosts have host_index). */
  const pluginSlots = new Map<number, number>();
  let scan: ScanInfo | null = null;
  let parseSummary: ParseSummary | null = null;
  let recordsBytes = 0;
  let textBytes = 0;
  let findings = 0;
  const recordsHandle = await open(join(storeDir, RECORDS_FILE), 'w');
  const textsHandle = await open(join(storeDir, TEXTS_FILE), 'w').catch(async (error: unknown) => {
    await recordsHandle.close();
    throw error;
  });
  try {
    const records = new TextWriter(recordsHandle);
    const texts = new TextWriter(textsHandle);
    for await (const event of events) {
      signal?.throwIfAborted();
      if (event.type === 'scan') scan = event.scan;
      else if (event.type === 'end') parseSummary = event.summary;
      else if (event.type === 'host') observe.host(event.host);
      else if (event.type === 'finding') {
        const finding: Finding = event.finding;
        const row = findings;
        findings += 1;
        observe.finding(finding);
        let pluginSlot = pluginSlots.get(finding.plugin_id);
        if (pluginSlot === undefined) pluginSlots.set(finding.plugin_id, (pluginSlot = pluginSlots.size));
        // The finding is ours to rewrite from here on.
        const text = packRecord(finding, row, columns, pluginSlot);
        recordsBytes += await records.writeLine(JSON.stringify(finding));
        offsets.push(recordsBytes);
        textBytes += await texts.write(text);
        textOffsets.push(textBytes);
      }
    }
    signal?.throwIfAborted();
    await Promise.all([records.finish(), texts.finish()]);
  } finally {
    await Promise.all([recordsHandle.close(), textsHandle.close()]);
  }
  if (!parseSummary) throw new Error('the export ended without the parser reporting its end');
  // A store missing findings would answer every query wrongly without anyone noticing.
  if (parseSummary.findings !== findings) {
    throw new Error(`the parser reported ${parseSummary.findings} findings but delivered ${findings}; the store was not written`);
  }
  return { scan, parseSummary, findings, recordsBytes, textBytes, offsets, textOffsets };
}

/**
 * Writes the offsets, the columns and their dictionaries, and returns where each column and each
 * packed field's dictionary lies, for the manifest.
 */
async function writeColumns(
  storeDir: string,
  columns: ColumnSet,
  written: RecordsWritten,
): Promise<{ entries: Record<string, ColumnEntry>; packed: PackedField[] }> {
  const encoder = new TextEncoder();
  const entries: Record<string, ColumnEntry> = {};
  const valueChunks: Uint8Array[] = [];
  const dictionaryChunks: Uint8Array[] = [];
  let valuesLength = 0;
  let dictionariesLength = 0;
  // Each dictionary is written once, shared by its column and by the records' codes.
  const dictionaryRanges = new Map<ColumnBuilder, ByteRange>();
  const dictionaryRange = (builder: ColumnBuilder): ByteRange | undefined => {
    const dictionary = builder.dictionary();
    if (!dictionary) return undefined;
    let range = dictionaryRanges.get(builder);
    if (!range) {
      const json = encoder.encode(JSON.stringify(dictionary));
      range = { offset: dictionariesLength, length: json.byteLength };
      dictionaryChunks.push(json);
      dictionariesLength += json.byteLength;
      dictionaryRanges.set(builder, range);
    }
    return range;
  };
  for (const { field, builder } of columns.kept()) {
    const bytes = builder.bytes(written.findings);
    // Float64 views need 8-byte alignment within the file, hence the padding.
    const padded = Math.ceil(bytes.byteLength / 8) * 8;
    const entry: ColumnEntry = { kind: builder.kind, values: { offset: valuesLength, length: bytes.byteLength } };
    valueChunks.push(bytes, new Uint8Array(padded - bytes.byteLength));
    valuesLength += padded;
    const range = dictionaryRange(builder);
    if (range) entry.dictionary = range;
    entries[field] = entry;
  }
  const packed: PackedField[] = [];
  for (const plan of columns.plans) {
    if (plan.packed) packed.push({ field: plan.field, dictionary: dictionaryRange(plan.packed) ?? { offset: 0, length: 0 } });
  }
  await Promise.all([
    // Record offsets, then text offsets: N + 1 of each.
    writeDurably(join(storeDir, OFFSETS_FILE), new Uint8Array(Float64Array.from([...written.offsets, ...written.textOffsets]).buffer)),
    writeDurably(join(storeDir, COLUMNS_FILE), Buffer.concat(valueChunks, valuesLength)),
    writeDurably(join(storeDir, DICTIONARIES_FILE), Buffer.concat(dictionaryChunks, dictionariesLength)),
  ]);
  return { entries, packed };
}

function summarise(
  written: RecordsWritten,
  tally: FindingTally,
  authentication: AuthenticationTracker,
  exportSize: number | null,
  credentialed: boolean | undefined,
): ResultSummary {
  const { scan, parseSummary } = written;
  const verdict = authentication.verdict(credentialed);
  const compliance = tally.complianceBreakdown();
  return {
    scan_name: scan?.report_name ?? null,
    policy_name: scan?.policy_name ?? null,
    targets: scan?.targets ?? [],
    scan_start: parseSummary.scan_start,
    scan_end: parseSummary.scan_end,
    hosts_scanned: parseSummary.hosts,
    findings_total: written.findings,
    total_vulnerabilities: tally.vulnerabilities(),
    severity_breakdown: { ...tally.severity },
    ...(compliance ? { compliance } : {}),
    file_size_kb: Math.round((exportSize ?? 0) / 1024),
    authentication_status: verdict.status,
    authentication_evidence: verdict.evidence,
    authentication_hints: verdict.hints,
    truncated_fields: parseSummary.truncated_fields,
    ingested_at: new Date().toISOString(),
  };
}

/** Builds a complete store in the (empty) workspace directory: records, columns, fingerprint, summary, then the manifest. */
async function buildStore({ exportPath, storeDir, fingerprintPath }: StoreWorkspace, options: IngestOptions): Promise<ResultSummary> {
  const { signal } = options;
  signal?.throwIfAborted();
  const columns = new ColumnSet(options.maxDictionaryChars ?? DEFAULT_MAX_DICTIONARY_CHARS);
  const tally = new FindingTally();
  const authentication = new AuthenticationTracker();
  const fingerprints = new FingerprintBuilder();
  // Sizes file_size_kb and picks the parse mode. A missing export is the parser's to report
  // (or absent on purpose when events are given).
  const exportSize = await stat(exportPath).then(
    (s) => s.size,
    () => null,
  );
  const events = options.events ?? parseNessus(exportPath, { workers: ingestParseWorkers(exportSize), ...options.parseOptions });
  const observe: IngestObserver = {
    host: (host) => fingerprints.observeHost(host),
    finding: (finding) => {
      tally.observe(finding);
      authentication.observe(finding);
      fingerprints.observe(finding);
    },
  };
  const written = await writeRecords(events, storeDir, columns, observe, signal);
  const [{ entries, packed }] = await Promise.all([writeColumns(storeDir, columns, written), fingerprints.write(fingerprintPath)]);
  const summary = summarise(written, tally, authentication, exportSize, options.credentialed);
  await writeDurably(join(storeDir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  const manifest: StoreManifest = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    store_id: randomUUID(),
    created_at: summary.ingested_at,
    findings: written.findings,
    records_bytes: written.recordsBytes,
    text_field: TEXT_FIELD,
    text_bytes: written.textBytes,
    columns: entries,
    unindexed: [...columns.unindexed],
    packed,
  };
  // The manifest is the commit record: written last, after every file it names is durable.
  await writeDurably(join(storeDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return summary;
}

/**
 * Ingests a task's export into its result store in one streaming pass, and returns the summary.
 * Atomic: the store is built in a workspace the task's files hand out and swapped in once
 * complete; readers only open a store whose manifest exists, so a crash leaves "not ready", never half.
 */
export async function ingestExport(options: IngestOptions): Promise<ResultSummary> {
  options.signal?.throwIfAborted();
  return options.files.replaceResultStore(options.taskId, (workspace) => buildStore(workspace, options));
}
