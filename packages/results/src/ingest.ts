import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { FIELD_TYPES, parseNessus } from '@nessus-mcp/nessus-parser';
import type { FieldValue, Finding, ParseEvent, ParseOptions, ParseSummary, ScanInfo } from '@nessus-mcp/nessus-parser';
import { SORT_KEYS, getFieldValue, resolveSort } from '@nessus-mcp/schema';
import { AuthenticationTracker } from './authentication.js';
import { columnKindOf, createColumnBuilder } from './columns.js';
import { FingerprintBuilder } from './fingerprints.js';
import type { ColumnBuilder } from './columns.js';
import {
  COLUMNS_FILE,
  DICTIONARIES_FILE,
  HOST_TUPLE_COLUMN,
  MANIFEST_FILE,
  OFFSETS_FILE,
  IN_TEXT_FILE,
  LITERAL_KEY,
  RECORDS_FILE,
  RESULTS_DIR,
  RETIRED_PREFIX,
  STORE_FORMAT,
  STORE_VERSION,
  SUMMARY_FILE,
  TEMP_PREFIX,
  TEXTS_FILE,
  TEXT_FIELD,
} from './layout.js';
import type { ByteRange, ColumnEntry, PackedField, StoreManifest } from './layout.js';
import { FindingTally } from './summary.js';
import type { ResultSummary } from './summary.js';

export interface IngestOptions {
  /** The downloaded export (`DATA_DIR/tasks/{id}/report.nessus`). */
  exportPath: string;
  /** The task directory; the store is written to `{taskDir}/results`. */
  taskDir: string;
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
   * Parse events to ingest instead of parsing `exportPath` (which is still measured for
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

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Leftovers of an ingest that crashed (or of a swap that was interrupted) are never trusted,
 * so they are removed; a temporary directory of another live process is its ingest in progress.
 */
async function removeLeftovers(taskDir: string): Promise<void> {
  const names = await readdir(taskDir).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    if (name.startsWith(RETIRED_PREFIX)) return true;
    if (!name.startsWith(TEMP_PREFIX)) return false;
    const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
    return !Number.isInteger(pid) || pid === process.pid || !processAlive(pid);
  });
  await Promise.all(stale.map((name) => rm(join(taskDir, name), { recursive: true, force: true })));
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

/**
 * Ingests an export into the task's result store in one streaming pass, and returns its summary.
 * Atomic: everything is built in a temporary directory, fsynced, then renamed to `results/`;
 * readers only open a store whose manifest exists, so a crash leaves "not ready", never half.
 */
export async function ingestExport(options: IngestOptions): Promise<ResultSummary> {
  const { taskDir, signal } = options;
  signal?.throwIfAborted();
  await removeLeftovers(taskDir);
  const temp = join(taskDir, `${TEMP_PREFIX}${process.pid}-${randomUUID().slice(0, 8)}`);
  await mkdir(temp, { recursive: true });
  try {
    const summary = await buildStore(options, temp);
    await swapIntoPlace(taskDir, temp);
    return summary;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function buildStore(options: IngestOptions, temp: string): Promise<ResultSummary> {
  const { signal } = options;
  const maxDictionaryChars = options.maxDictionaryChars ?? DEFAULT_MAX_DICTIONARY_CHARS;
  const columns = planColumns();
  const hostTuples = createColumnBuilder('dictionary');
  const unindexed = new Set(NEVER_INDEXED);
  const tally = new FindingTally();
  const authentication = new AuthenticationTracker();
  const fingerprints = new FingerprintBuilder();
  const offsets: number[] = [0];
  const textOffsets: number[] = [0];
  let textBytes = 0;
  /** Dense numbers for plugins in order of appearance, a repeat group of the dictionaries (hosts have host_index). */
  const pluginSlots = new Map<number, number>();
  const encoder = new TextEncoder();
  let scan: ScanInfo | null = null;
  let parseSummary: ParseSummary | null = null;
  let recordsBytes = 0;
  let findings = 0;

  const plainPlans = new Map(columns.filter((plan) => !plan.field.includes('.')).map((plan) => [plan.field, plan]));
  const dottedPlans = columns.filter((plan) => plan.field.includes('.'));
  /** Adds the value to the plan's column; returns its dictionary code when the record may carry that instead. */
  const addToColumn = (plan: ColumnPlan, row: number, value: FieldValue | undefined, group?: number): number => {
    const builder = plan.builder;
    if (!builder) return 0;
    const code = builder.set(row, value, group);
    if (builder.dictionaryChars() > maxDictionaryChars && !ALWAYS_INDEXED.has(plan.field)) {
      plan.builder = null;
      unindexed.add(plan.field);
    }
    return plan.packed ? code : 0;
  };

  // Sizes file_size_kb and picks the parse mode. A missing export is the parser's to report
  // (or absent on purpose when events are given).
  const exportSize = await stat(options.exportPath).then((s) => s.size, () => null);
  const recordsHandle = await open(join(temp, RECORDS_FILE), 'w');
  const textsHandle = await open(join(temp, TEXTS_FILE), 'w').catch(async (error: unknown) => {
    await recordsHandle.close();
    throw error;
  });
  try {
    const records = new TextWriter(recordsHandle);
    const texts = new TextWriter(textsHandle);
    const events = options.events ?? parseNessus(options.exportPath, { workers: ingestParseWorkers(exportSize), ...options.parseOptions });
    for await (const event of events) {
      signal?.throwIfAborted();
      if (event.type === 'scan') scan = event.scan;
      else if (event.type === 'end') parseSummary = event.summary;
      else if (event.type === 'host') fingerprints.observeHost(event.host);
      else if (event.type === 'finding') {
        const finding: Finding = event.finding;
        const row = findings;
        findings += 1;
        tally.observe(finding);
        authentication.observe(finding);
        fingerprints.observe(finding);
        hostTuples.set(row, [finding.host, finding.host_ip ?? '', finding.host_fqdn ?? '']);
        if (finding.compliance) for (const plan of dottedPlans) addToColumn(plan, row, plan.read(finding));
        // The record is the finding with its text replaced by dictionary codes, which spares
        // serialising the same description for every host, and its plugin output moved to the
        // text file as it is (no JSON escaping). The finding is ours to rewrite from here on.
        // Fields the finding lacks stay null in their columns.
        let text = '';
        const record = finding as Record<string, unknown>;
        let pluginSlot = pluginSlots.get(finding.plugin_id);
        if (pluginSlot === undefined) pluginSlots.set(finding.plugin_id, (pluginSlot = pluginSlots.size));
        for (const key in finding) {
          const value = finding[key];
          const plan = plainPlans.get(key);
          if (plan) {
            const code = addToColumn(plan, row, value, plan.repeatsPer === 'host' ? finding.host_index : pluginSlot);
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
        recordsBytes += await records.writeLine(JSON.stringify(record));
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

  const manifestColumns: Record<string, ColumnEntry> = {};
  const allColumns: { field: string; builder: ColumnBuilder }[] = [{ field: HOST_TUPLE_COLUMN, builder: hostTuples }];
  for (const plan of columns) if (plan.builder) allColumns.push({ field: plan.field, builder: plan.builder });
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
  for (const { field, builder } of allColumns) {
    const bytes = builder.bytes(findings);
    // Float64 views need 8-byte alignment within the file, hence the padding.
    const padded = Math.ceil(bytes.byteLength / 8) * 8;
    const entry: ColumnEntry = { kind: builder.kind, values: { offset: valuesLength, length: bytes.byteLength } };
    valueChunks.push(bytes, new Uint8Array(padded - bytes.byteLength));
    valuesLength += padded;
    const range = dictionaryRange(builder);
    if (range) entry.dictionary = range;
    manifestColumns[field] = entry;
  }
  const packedFields: PackedField[] = [];
  for (const plan of columns) {
    if (plan.packed) packedFields.push({ field: plan.field, dictionary: dictionaryRange(plan.packed) ?? { offset: 0, length: 0 } });
  }
  await Promise.all([
    // Record offsets, then text offsets: N + 1 of each.
    writeDurably(join(temp, OFFSETS_FILE), new Uint8Array(Float64Array.from([...offsets, ...textOffsets]).buffer)),
    writeDurably(join(temp, COLUMNS_FILE), Buffer.concat(valueChunks, valuesLength)),
    writeDurably(join(temp, DICTIONARIES_FILE), Buffer.concat(dictionaryChunks, dictionariesLength)),
    fingerprints.write(temp),
  ]);

  const verdict = authentication.verdict(options.credentialed);
  const compliance = tally.complianceBreakdown();
  const summary: ResultSummary = {
    scan_name: scan?.report_name ?? null,
    policy_name: scan?.policy_name ?? null,
    targets: scan?.targets ?? [],
    scan_start: parseSummary.scan_start,
    scan_end: parseSummary.scan_end,
    hosts_scanned: parseSummary.hosts,
    findings_total: findings,
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
  await writeDurably(join(temp, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);

  const manifest: StoreManifest = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    store_id: randomUUID(),
    created_at: summary.ingested_at,
    findings,
    records_bytes: recordsBytes,
    text_field: TEXT_FIELD,
    text_bytes: textBytes,
    columns: manifestColumns,
    unindexed: [...unindexed],
    packed: packedFields,
  };
  // The manifest is the commit record: written last, after every file it names is durable.
  await writeDurably(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await syncDirectory(temp);
  return summary;
}

/**
 * Replaces `results/` with the new store. A rename onto a non-empty directory is not possible,
 * so an existing store is first moved aside; a crash between the two renames leaves no store
 * (read as not ready), and the next ingest removes the leftovers.
 */
async function swapIntoPlace(taskDir: string, temp: string): Promise<void> {
  const target = join(taskDir, RESULTS_DIR);
  const retired = join(taskDir, `${RETIRED_PREFIX}${randomUUID().slice(0, 8)}`);
  let hadPrevious = true;
  try {
    await rename(target, retired);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    hadPrevious = false;
  }
  await rename(temp, target);
  await syncDirectory(taskDir);
  if (hadPrevious) await rm(retired, { recursive: true, force: true });
}
