// Result-store benchmark: builds a large export from the real fixtures, times the bare parse
// against the ingest, then per-page latency of the five query types of issue 4 through the
// service entry point (ResultStoreCache.query), beside "re-parse the XML for every page".
//
//   npm run bench -w @nessus-mcp/results              250 MB export (BENCH_MB to change)
//   BENCH_SMALL=1 npm run bench -w @nessus-mcp/results  ~12 MB, for a quick look
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNessus } from '@nessus-mcp/nessus-parser';
import { renderResultLines, resolveResultQuery } from '@nessus-mcp/schema';
import { LocalTaskFiles, ResultStoreCache, ingestExport, scanFactsOf } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, 'out');
const SMALL = process.env.BENCH_SMALL === '1';
const TARGET_MB = Number(process.env.BENCH_MB ?? (SMALL ? 12 : 250));
const PAGES = Number(process.env.BENCH_PAGES ?? (SMALL ? 100 : 300));
const BASELINE_PAGES = Number(process.env.BENCH_BASELINE_PAGES ?? (SMALL ? 3 : 1));

// The parser package keeps the fixtures; the simulator carries a subset of the same files.
const FIXTURE_DIRS = [join(here, '../../nessus-parser/test/fixtures'), join(here, '../../nessus-sim/fixtures')];
const fixtureDir = FIXTURE_DIRS.find((dir) => existsSync(join(dir, 'savon-noir_python-libnessus__nessus_report_local_3.nessus')));
if (!fixtureDir) throw new Error(`no fixtures found in ${FIXTURE_DIRS.join(' or ')}`);

function hostBlocks(file) {
  const text = readFileSync(join(fixtureDir, file), 'utf8');
  const first = text.indexOf('<ReportHost');
  const last = text.lastIndexOf('</ReportHost>') + '</ReportHost>'.length;
  const blocks = text
    .slice(first, last)
    .split(/(?=<ReportHost[\s>])/)
    .map((b) => b.trim())
    .filter(Boolean);
  return { head: text.slice(0, first), tail: text.slice(last), blocks };
}

/** A block per generated host, renamed to a unique address so hosts and CIDRs stay meaningful. */
async function generateExport(path) {
  const local = hostBlocks('savon-noir_python-libnessus__nessus_report_local_3.nessus');
  const tenable = hostBlocks('tenable_pyTenable__example.nessus');
  // Three small hosts per large one gives about 210 findings per MB (≥ 50,000 at 250 MB).
  const cycle = [...local.blocks, ...local.blocks, ...local.blocks, ...tenable.blocks];
  const handle = await open(path, 'w');
  let bytes = 0;
  const write = async (text) => {
    const buffer = Buffer.from(text);
    bytes += buffer.byteLength;
    await handle.write(buffer);
  };
  await write(local.head);
  for (let i = 0; bytes < TARGET_MB * 1024 * 1024; i += 1) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const block = cycle[i % cycle.length]
      .replace(/<ReportHost name="[^"]*"/, `<ReportHost name="${address}"`)
      .replace(/<tag name="host-ip">[^<]*<\/tag>/, `<tag name="host-ip">${address}</tag>`);
    await write(`${block}\n`);
  }
  await write(local.tail);
  await handle.close();
}

const task = { task_id: 'bench_task', scan_name: 'bench', scan_type: 'untrusted', targets: ['10.0.0.0/8'], started_at: null, completed_at: null };
const QUERIES = {
  '(a) no filter': { schema_profile: 'brief' },
  '(b) severity >= 3': { filters: { severity: '>=3' } },
  '(c) host CIDR /20': { filters: { host: '10.0.0.0/20' } },
  '(d) CVE substring': { filters: { cve: 'CVE-2012-' } },
  '(e) plugin_name + sort severity': { filters: { plugin_name: 'smb' }, sort: 'severity' },
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fmt = (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

async function timeIt(action) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await action();
  const cpu = process.cpuUsage(cpuStart);
  return { ms: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000, result };
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const files = new LocalTaskFiles(join(OUT, 'data'));
  const taskId = 'be_nch_20250101_000000_00000000';
  const generated = join(OUT, `export-${TARGET_MB}mb.nessus`);
  if (!existsSync(generated)) {
    console.log(`generating a ${TARGET_MB} MB export from ${fixtureDir} ...`);
    // Written aside and renamed: the gateway bench pages this file and must never see half of it.
    await generateExport(`${generated}.partial`);
    await rename(`${generated}.partial`, generated);
  }
  await files.remove(taskId);
  await files.writeExport(taskId, (staging) => copyFile(generated, staging));
  const storeDir = await files.resultStoreDirectory(taskId);
  // The bare parse reads the generated file, the ingest the task's copy of it: the same bytes.
  const exportPath = generated;
  const sizeMb = statSync(exportPath).size / 1024 / 1024;

  // Ingest parses on the calling thread (see IngestOptions.parseOptions), so the bare parse
  // is timed the same way. Runs alternate and the best of each counts: the machine is shared.
  const bareParse = () =>
    timeIt(async () => {
      let findings = 0;
      for await (const event of parseNessus(exportPath, { workers: 0 })) if (event.type === 'finding') findings += 1;
      return findings;
    });
  const runs = Number(process.env.BENCH_INGEST_RUNS ?? 3);
  // BENCH_INGEST_WORKERS=0 parses on the ingest thread; by default the ingest parses a large
  // export on one worker thread while this thread builds the store (IngestOptions.parseOptions).
  const INGEST_OPTIONS = process.env.BENCH_INGEST_WORKERS ? { parseOptions: { workers: Number(process.env.BENCH_INGEST_WORKERS) } } : {};
  const parses = [];
  const ingests = [];
  for (let i = 0; i < runs; i += 1) {
    parses.push(await bareParse());
    // The previous run's store is removed first, outside the timing: a first ingest has none.
    await rm(storeDir, { recursive: true, force: true });
    ingests.push(await timeIt(() => ingestExport({ files, taskId, ...INGEST_OPTIONS })));
  }
  const best = (list, key) => list.reduce((a, b) => (b[key] < a[key] ? b : a));
  const parse = best(parses, 'ms');
  const ingest = best(ingests, 'ms');
  const parseCpu = best(parses, 'cpuMs').cpuMs;
  const ingestCpu = best(ingests, 'cpuMs').cpuMs;
  console.log(`\nexport: ${sizeMb.toFixed(1)} MB, ${parse.result} findings, ${ingest.result.hosts_scanned} hosts`);
  console.log(`wall: bare parse ${fmt(parse.ms)} | ingest ${fmt(ingest.ms)} | ratio ${(ingest.ms / parse.ms).toFixed(2)}x (target <= 1.5x; best of ${runs})`);
  console.log(`cpu:  bare parse ${fmt(parseCpu)} | ingest ${fmt(ingestCpu)} | ratio ${(ingestCpu / parseCpu).toFixed(2)}x`);
  console.log(
    `runs: bare parse ${parses.map((r) => fmt(r.ms)).join(', ')} | ingest ${ingests.map((r) => fmt(r.ms)).join(', ')} (a shared machine: each pair's ratio is noisy)`,
  );

  const rows = [];
  const cache = new ResultStoreCache();
  const fresh = new ResultStoreCache({ selectionCacheSize: 0 });
  const first = await timeIt(async () => (await cache.query(storeDir, {}, task)).toArray());
  console.log(`first query after open (loads offsets and columns): ${fmt(first.ms)}`);
  await (await fresh.query(storeDir, {}, task)).toArray();
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  for (const [name, base] of Object.entries(QUERIES)) {
    const probe = await cache.query(storeDir, { ...base, page: 1 }, task);
    await probe.toArray();
    const pages = Math.max(1, probe.total_pages);
    for (const [mode, target] of [
      ['paging', cache],
      ['re-filter', fresh],
    ]) {
      const samples = [];
      for (let i = 0; i < PAGES; i += 1) {
        const page = 1 + Math.floor(Math.random() * pages);
        const { ms } = await timeIt(async () => (await target.query(storeDir, { ...base, page }, task)).toArray());
        samples.push(ms);
      }
      samples.sort((a, b) => a - b);
      rows.push({ query: name, mode, matches: probe.total_vulnerabilities, p50: percentile(samples, 50), p95: percentile(samples, 95) });
    }
  }
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;

  // Baseline: the naive approach, parse the whole export for every page.
  const facts = scanFactsOf(ingest.result);
  for (const [name, base] of Object.entries(QUERIES)) {
    const samples = [];
    for (let i = 0; i < BASELINE_PAGES; i += 1) {
      const { ms } = await timeIt(async () => {
        const findings = [];
        for await (const event of parseNessus(exportPath, { workers: 0 })) if (event.type === 'finding') findings.push(event.finding);
        return renderResultLines(findings, resolveResultQuery({ ...base, page: 1 }), task, facts);
      });
      samples.push(ms);
    }
    samples.sort((a, b) => a - b);
    rows.push({ query: name, mode: 're-parse XML', matches: '', p50: percentile(samples, 50), p95: percentile(samples, 95) });
  }

  console.log(
    `\nper-page latency (service function, page_size 40, random pages; ${PAGES} samples, baseline ${BASELINE_PAGES}); target p50 <= 20 ms, p95 <= 50 ms`,
  );
  console.log(['query'.padEnd(34), 'mode'.padEnd(13), 'matches'.padStart(8), 'p50'.padStart(10), 'p95'.padStart(10)].join(' '));
  for (const row of rows.sort((a, b) => a.query.localeCompare(b.query))) {
    console.log([row.query.padEnd(34), row.mode.padEnd(13), String(row.matches).padStart(8), fmt(row.p50).padStart(10), fmt(row.p95).padStart(10)].join(' '));
  }
  console.log(
    `\nRSS while serving ${Object.keys(QUERIES).length * PAGES * 2} pages: ${(rssBefore / 1048576).toFixed(0)} MB -> ${(rssAfter / 1048576).toFixed(0)} MB`,
  );
  console.log('"paging" reuses the selection of the same filters (next pages of one query); "re-filter" evaluates the filters on every call.');
}

await main();
