import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_FIELD_BYTES } from './document-reader.js';
import { inputBytes, inputSize } from './input-source.js';
import type { NessusInput } from './input-source.js';
import { parseParallel } from './parallel-parse.js';
import { parseSequential } from './sequential-parse.js';
import type { Limits } from './sequential-parse.js';
import type { Finding, ParseEvent, ParseOptions, ParseSummary } from './types.js';

/** Below this, starting worker threads costs more than it saves. */
const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;
const MAX_AUTO_WORKERS = 3;
/**
 * Worker mode spends about half again as much CPU in total (copying results between threads,
 * a second heap to collect), so it only pays when cores are spare. On the project's 2-core
 * machines, shared with other work, one worker beside the main thread measured anywhere from
 * 1.2x faster to 1.5x slower than the main thread alone, with twice the memory; with 4 or more
 * cores it is used by default.
 */
const AUTO_PARALLEL_MIN_CORES = 4;

function limitsOf(options: ParseOptions): Limits {
  const maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxFieldBytes) || maxFieldBytes < 64) throw new RangeError('maxFieldBytes must be an integer >= 64');
  if (!Number.isInteger(maxDepth) || maxDepth < 8) throw new RangeError('maxDepth must be an integer >= 8');
  return { maxFieldBytes, maxDepth };
}

/** How many workers `workers: 'auto'` uses for an input of this size (null: unknown size). */
export function autoWorkerCount(sizeBytes: number | null, cores = availableParallelism()): number {
  if (sizeBytes === null || sizeBytes < PARALLEL_MIN_BYTES || cores < AUTO_PARALLEL_MIN_CORES) return 0;
  return Math.min(MAX_AUTO_WORKERS, cores - 2);
}

async function workerCount(input: NessusInput, option: ParseOptions['workers']): Promise<number> {
  if (typeof option === 'number') {
    if (!Number.isInteger(option) || option < 0) throw new RangeError('workers must be a non-negative integer');
    return option;
  }
  return autoWorkerCount(await inputSize(input));
}

/**
 * Streams a Nessus v2 export as events, in document order: one `scan`, then per ReportHost a
 * `host` followed by one `finding` per ReportItem, then `end` with the totals. Memory stays flat
 * whatever the file size. A file that is not a well-formed `NessusClientData_v2` document
 * throws a `NessusParseError` naming the problem and line; events yielded before it stay valid.
 */
export async function* parseNessus(input: NessusInput, options: ParseOptions = {}): AsyncGenerator<ParseEvent> {
  const limits = limitsOf(options);
  const workers = await workerCount(input, options.workers ?? 'auto');
  const bytes = inputBytes(input);
  if (workers === 0) yield* parseSequential(bytes, limits);
  else yield* parseParallel(bytes, limits, workers);
}

/** Only the findings, in document order. */
export async function* parseNessusFindings(input: NessusInput, options: ParseOptions = {}): AsyncGenerator<Finding> {
  for await (const event of parseNessus(input, options)) if (event.type === 'finding') yield event.finding;
}

/** Host, finding and per-severity counts of an export. */
export async function summarizeNessus(input: NessusInput, options: ParseOptions = {}): Promise<ParseSummary> {
  for await (const event of parseNessus(input, options)) if (event.type === 'end') return event.summary;
  throw new Error('parser ended without a summary');
}
