#!/usr/bin/env node
/**
 * nessus-parse FILE            one JSON object per ReportItem, in document order
 * nessus-parse --summary FILE  {"hosts":N,"findings":N,"by_severity":{"0":N,...,"4":N}}
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { NessusParseError } from './errors.js';
import type { NessusInput } from './input-source.js';
import { parseNessus } from './parse-nessus.js';
import type { ParseOptions } from './types.js';

const USAGE = `usage: nessus-parse [--summary] [--workers N] [--max-field-bytes N] FILE
  FILE               a Nessus v2 export (.nessus); "-" reads standard input
  --summary          print only {"hosts","findings","by_severity"}
  --workers N        worker threads (0 = parse on the main thread; default: automatic)
  --max-field-bytes  cap for any single text field (default 4194304)`;

/** Lines are gathered and written in blocks: one write per finding is several times slower. */
const FLUSH_BYTES = 256 * 1024;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`nessus-parse: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(exitCode);
}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got "${text}"`, 2);
  return value;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        summary: { type: 'boolean', default: false },
        workers: { type: 'string' },
        'max-field-bytes': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) fail(`expected exactly one FILE\n${USAGE}`, 2);

  const options: ParseOptions = {};
  const workers = positiveInteger('--workers', values.workers);
  if (workers !== undefined) options.workers = workers;
  const maxFieldBytes = positiveInteger('--max-field-bytes', values['max-field-bytes']);
  if (maxFieldBytes !== undefined) options.maxFieldBytes = maxFieldBytes;
  const input: NessusInput = file === '-' ? process.stdin : file;

  const out = process.stdout;
  out.on('error', (error: NodeJS.ErrnoException) => {
    // A closed pipe (`nessus-parse big.nessus | head`) is the reader's choice, not a failure.
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let buffered = '';
  const flush = async (): Promise<void> => {
    if (buffered === '') return;
    const ok = out.write(buffered);
    buffered = '';
    if (!ok) await once(out, 'drain');
  };

  try {
    for await (const event of parseNessus(input, options)) {
      if (event.type === 'finding' && !values.summary) {
        buffered += `${JSON.stringify(event.finding)}\n`;
        if (buffered.length >= FLUSH_BYTES) await flush();
      } else if (event.type === 'end' && values.summary) {
        const { hosts, findings, by_severity } = event.summary;
        buffered += `${JSON.stringify({ hosts, findings, by_severity })}\n`;
      }
    }
  } catch (error) {
    await flush();
    if (error instanceof NessusParseError) fail(`${file}: ${error.message}`, 1);
    if (error instanceof RangeError) fail(error.message, 2);
    throw error;
  }
  await flush();
}

await main();
