import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FIELD_TYPES, parseNessus } from '@nessus-mcp/nessus-parser';
import type { FieldValue, Finding, ParseEvent, ParseOptions, ParseSummary, ScanInfo } from '@nessus-mcp/nessus-parser';
import { SORT_KEYS, getFieldValue, resolveSort } from '@nessus-mcp/schema';
import { AuthenticationTracker } from './authentication.js';
import { columnKindOf, createColumnBuilder } from './columns.js';
import type { ColumnBuilder } from './columns.js';
import {
  COLUMNS_FILE,
  DICTIONARIES_FILE,
  HOST_TUPLE_COLUMN,
  MANIFEST_FILE,
  OFFSETS_FILE,
  RECORDS_FILE,
  RESULTS_DIR,
  RETIRED_PREFIX,
  STORE_FORMAT,
  STORE_VERSION,
  SUMMARY_FILE,
  TEMP_PREFIX,
} from './layout.js';
import type { ColumnEntry, StoreManifest } from './layout.js';
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
   * Passed to the parser. Ingest parses on the calling thread unless told otherwise: the
   * parser's worker-thread mode lost findings under a slow consumer when this was written
   * (3,487 of 3,836 on a 13 MB export), and the count check below refuses such a store.
   */
  parseOptions?: ParseOptions;
  /**
   * A text column whose distinct values exceed this many characters is not indexed (its
   * filters read the full records instead): mostly-unique text would cost memory for nothing.
   */
  maxDictionaryChars?: number;
  /** Parse events to ingest instead of parsing `exportPath` (which is still measured for `file_size_kb`). */
  events?: AsyncIterable<ParseEvent>;
}

const DEFAULT_MAX_DICTIONARY_CHARS = 8 * 1024 * 1024;
/** Plugin output is close to unique per finding: indexing it would only copy the records. */
const NEVER_INDEXED = new Set(['plugin_output']);
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
class LineWriter {
  private buffer: Buffer = Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  private spare: Buffer | null = Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  private used = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Appends the text and a newline; returns the bytes written. */
  async writeLine(text: string): Promise<number> {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const worstCase = text.length * 3 + 1;
    if (this.used + worstCase > this.buffer.byteLength) {
      await this.flush();
      if (worstCase > this.buffer.byteLength) {
        const bytes = Buffer.from(`${text}\n`, 'utf8');
        await this.writeAt(bytes, bytes.byteLength);
        return bytes.byteLength;
      }
    }
    const written = this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used + written] = NEWLINE;
    this.used += written + 1;
    return written + 1;
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
  builder: ColumnBuilder | null;
}

function planColumns(): ColumnPlan[] {
  const plans: ColumnPlan[] = [];
  for (const [field, type] of Object.entries(FIELD_TYPES)) {
    const kind = columnKindOf(type);
    if (!kind || NEVER_INDEXED.has(field)) continue;
    const read = (finding: Finding) => getFieldValue(finding, field);
    plans.push({ field, read, builder: createColumnBuilder(kind) });
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
  const offsets: number[] = [0];
  const encoder = new TextEncoder();
  let scan: ScanInfo | null = null;
  let parseSummary: ParseSummary | null = null;
  let recordsBytes = 0;
  let findings = 0;

  const plainPlans = new Map(columns.filter((plan) => !plan.field.includes('.')).map((plan) => [plan.field, plan]));
  const dottedPlans = columns.filter((plan) => plan.field.includes('.'));
  const addToColumn = (plan: ColumnPlan, row: number, value: FieldValue | undefined, group: number): void => {
    if (!plan.builder) return;
    plan.builder.set(row, value, group);
    if (plan.builder.dictionaryChars() > maxDictionaryChars && !ALWAYS_INDEXED.has(plan.field)) {
      plan.builder = null;
      unindexed.add(plan.field);
    }
  };

  const recordsHandle = await open(join(temp, RECORDS_FILE), 'w');
  try {
    const records = new LineWriter(recordsHandle);
    const events = options.events ?? parseNessus(options.exportPath, { workers: 0, ...options.parseOptions });
    for await (const event of events) {
      signal?.throwIfAborted();
      if (event.type === 'scan') scan = event.scan;
      else if (event.type === 'end') parseSummary = event.summary;
      else if (event.type === 'finding') {
        const finding: Finding = event.finding;
        recordsBytes += await records.writeLine(JSON.stringify(finding));
        offsets.push(recordsBytes);
        const row = findings;
        findings += 1;
        // Only the fields this finding has: the others stay null in their columns.
        for (const key in finding) {
          const plan = plainPlans.get(key);
          if (plan) addToColumn(plan, row, finding[key], finding.plugin_id);
        }
        if (finding.compliance) for (const plan of dottedPlans) addToColumn(plan, row, plan.read(finding), finding.plugin_id);
        hostTuples.set(row, [finding.host, finding.host_ip ?? '', finding.host_fqdn ?? '']);
        tally.observe(finding);
        authentication.observe(finding);
      }
    }
    signal?.throwIfAborted();
    await records.finish();
  } finally {
    await recordsHandle.close();
  }
  if (!parseSummary) throw new Error('the export ended without the parser reporting its end');
  // A store missing findings would answer every query wrongly without anyone noticing.
  if (parseSummary.findings !== findings) {
    throw new Error(`the parser reported ${parseSummary.findings} findings but delivered ${findings}; the store was not written`);
  }

  const offsetBytes = new Uint8Array(Float64Array.from(offsets).buffer);
  await writeDurably(join(temp, OFFSETS_FILE), offsetBytes);
  const manifestColumns: Record<string, ColumnEntry> = {};
  const allColumns: { field: string; builder: ColumnBuilder }[] = [{ field: HOST_TUPLE_COLUMN, builder: hostTuples }];
  for (const plan of columns) if (plan.builder) allColumns.push({ field: plan.field, builder: plan.builder });
  const valueChunks: Uint8Array[] = [];
  const dictionaryChunks: Uint8Array[] = [];
  let valuesLength = 0;
  let dictionariesLength = 0;
  for (const { field, builder } of allColumns) {
    const bytes = builder.bytes(findings);
    // Float64 views need 8-byte alignment within the file, hence the padding.
    const padded = Math.ceil(bytes.byteLength / 8) * 8;
    const entry: ColumnEntry = { kind: builder.kind, values: { offset: valuesLength, length: bytes.byteLength } };
    valueChunks.push(bytes, new Uint8Array(padded - bytes.byteLength));
    valuesLength += padded;
    const dictionary = builder.dictionary();
    if (dictionary) {
      const json = encoder.encode(JSON.stringify(dictionary));
      entry.dictionary = { offset: dictionariesLength, length: json.byteLength };
      dictionaryChunks.push(json);
      dictionariesLength += json.byteLength;
    }
    manifestColumns[field] = entry;
  }
  await Promise.all([
    writeDurably(join(temp, OFFSETS_FILE), new Uint8Array(Float64Array.from(offsets).buffer)),
    writeDurably(join(temp, COLUMNS_FILE), Buffer.concat(valueChunks, valuesLength)),
    writeDurably(join(temp, DICTIONARIES_FILE), Buffer.concat(dictionaryChunks, dictionariesLength)),
  ]);

  const fileSize = options.events ? await stat(options.exportPath).then((s) => s.size, () => 0) : (await stat(options.exportPath)).size;
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
    file_size_kb: Math.round(fileSize / 1024),
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
    columns: manifestColumns,
    unindexed: [...unindexed],
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
