// `npm run bench` (parser part): nessus-parser against CPython's ElementTree.iterparse doing the
// same extraction, on exports of 250 MB and 1 GB built from the fixtures. Prints MB/s, the ratio
// and the peak RSS of each, and writes them to bench/out/parser-results.json.
//
// BENCH_PARSER_SIZES_MB="250,1024" picks the sizes; generated files are kept in bench/out/.
// BENCH_PARSER_ROUNDS (default 3): each contender runs that many times, interleaved with the
// others, and its best run counts, so a burst of load from other processes on the machine
// does not decide the comparison.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { availableParallelism } from 'node:os';
import { autoWorkerCount } from '../dist/parse-nessus.js';
import { generateLargeExport } from './generate-large.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
const sizes = (process.env.BENCH_PARSER_SIZES_MB ?? '250,1024')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const rounds = Math.max(1, Number(process.env.BENCH_PARSER_ROUNDS ?? 3));
mkdirSync(outDir, { recursive: true });

/** @param {string} command @param {string[]} args */
async function timed(command, args) {
  const started = performance.now();
  const { stdout } = await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  const lines = stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1] ?? '{}');
  return { wall, findings: report.findings, hosts: report.hosts, rssMb: report.max_rss_kb / 1024 };
}

const results = [];
for (const sizeMb of sizes) {
  const file = join(outDir, `export-${sizeMb}mb.nessus`);
  if (!existsSync(file) || statSync(file).size < sizeMb * 1024 * 1024) {
    process.stdout.write(`generating ${file} ... `);
    const made = await generateLargeExport(file, sizeMb);
    console.log(`${made.hosts} hosts`);
  }
  const mb = statSync(file).size / (1024 * 1024);
  // The default (`auto`) and, for comparison, the other mode: one worker beside the main
  // thread when auto picks none, the main thread alone otherwise.
  const autoWorkers = autoWorkerCount(statSync(file).size);
  const otherWorkers = autoWorkers === 0 ? 1 : 0;
  /** @type {Record<string, Awaited<ReturnType<typeof timed>>[]>} */
  const runs = { python: [], node: [], other: [] };
  for (let round = 0; round < rounds; round++) {
    runs.python.push(await timed('python3', [join(here, 'cpython_reader.py'), file]));
    runs.node.push(await timed(process.execPath, [join(here, 'parse-file.mjs'), file, 'auto']));
    runs.other.push(await timed(process.execPath, [join(here, 'parse-file.mjs'), file, String(otherWorkers)]));
  }
  /** @param {Awaited<ReturnType<typeof timed>>[]} list */
  const best = (list) => ({ ...list.reduce((a, b) => (b.wall < a.wall ? b : a)), rssMb: Math.max(...list.map((r) => r.rssMb)) });
  const python = best(runs.python);
  const node = best(runs.node);
  const other = best(runs.other);
  if (node.findings !== python.findings || node.hosts !== python.hosts || other.findings !== python.findings) {
    throw new Error(`count mismatch on ${file}: nessus-parser ${node.hosts}/${node.findings}, CPython ${python.hosts}/${python.findings}`);
  }
  const row = {
    file: `export-${sizeMb}mb.nessus`,
    rounds,
    mb: Number(mb.toFixed(1)),
    hosts: node.hosts,
    findings: node.findings,
    cores: availableParallelism(),
    auto_workers: autoWorkers,
    nessus_parser_mb_s: Number((mb / node.wall).toFixed(1)),
    other_mode_workers: otherWorkers,
    other_mode_mb_s: Number((mb / other.wall).toFixed(1)),
    cpython_mb_s: Number((mb / python.wall).toFixed(1)),
    ratio: Number((python.wall / node.wall).toFixed(2)),
    nessus_parser_peak_rss_mb: Math.round(node.rssMb),
    other_mode_peak_rss_mb: Math.round(other.rssMb),
    cpython_peak_rss_mb: Math.round(python.rssMb),
  };
  results.push(row);
  console.log(
    `${row.file}: ${row.mb} MB, ${row.hosts} hosts, ${row.findings} findings\n` +
      `  nessus-parser  ${row.nessus_parser_mb_s} MB/s, peak RSS ${row.nessus_parser_peak_rss_mb} MB (default: ${autoWorkers} workers on ${row.cores} cores)\n` +
      `    ${otherWorkers} workers  ${row.other_mode_mb_s} MB/s, peak RSS ${row.other_mode_peak_rss_mb} MB\n` +
      `  CPython        ${row.cpython_mb_s} MB/s, peak RSS ${row.cpython_peak_rss_mb} MB\n` +
      `  ratio          ${row.ratio}x`,
  );
}
writeFileSync(join(outDir, 'parser-results.json'), `${JSON.stringify(results, null, 2)}\n`);
