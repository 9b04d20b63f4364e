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
/** The main thread parses too, so one worker per further core; more than 3 did not help (the main thread's share becomes the limit). */
const MAX_AUTO_WORKERS = 3;

function limitsOf(options: ParseOptions): Limits {
  const maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxFieldBytes) || maxFieldBytes < 64) throw new RangeError('maxFieldBytes must be an integer >= 64');
  if (!Number.isInteger(maxDepth) || maxDepth < 8) throw new RangeError('maxDepth must be an integer >= 8');
  return { maxFieldBytes, maxDepth };
}

async function workerCount(input: NessusInput, option: ParseOptions['workers']): Promise<number> {
  if (typeof option === 'number') {
    if (!Number.isInteger(option) || option < 0) throw new RangeError('workers must be a non-negative integer');
    return option;
  }
  const size = await inputSize(input);
  if (size === null || size < PARALLEL_MIN_BYTES) return 0;
  return Math.max(1, Math.min(MAX_AUTO_WORKERS, availableParallelism() - 1));
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
