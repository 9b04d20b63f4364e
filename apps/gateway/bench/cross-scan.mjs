// Cross-scan benchmark (issue 13 targets), against a real gateway process over HTTP:
//   compare_scans of two 75k-finding scans (the results bench's 250 MB export and a copy drifted
//   the way the simulator drifts a second scan): first page ≤ 1.5 s cold, next pages p95 ≤ 100 ms,
//   gateway RSS bounded;
//   search_findings by CVE over 100 retained scans of about 5k findings: p95 ≤ 300 ms.
// Environment: REDIS_URL (else an embedded redis-server), BENCH_RESULTS_EXPORT (the big export),
// BENCH_CROSS_PAGES (100), BENCH_SEARCH_SCANS (100), BENCH_SEARCH_FINDINGS (5000),
// BENCH_SEARCH_QUERIES (50).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskStore, createRedisConnection } from '@nessus-mcp/core';
import { findFreePort, startRedisServer } from '@nessus-mcp/embedded-redis';
import { driftItems, hostDown } from '@nessus-mcp/nessus-sim';
import { LocalTaskFiles, ingestExport, postingsOf, resultFiguresOf } from '@nessus-mcp/results';

const here = dirname(fileURLToPath(import.meta.url));
const gatewayDir = join(here, '..');
const token = `bench-${randomBytes(12).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };
const bigExport = process.env.BENCH_RESULTS_EXPORT ?? join(here, '../../../packages/results/bench/out/export-250mb.nessus');
const pages = Number(process.env.BENCH_CROSS_PAGES ?? 100);
const searchScans = Number(process.env.BENCH_SEARCH_SCANS ?? 100);
const searchFindings = Number(process.env.BENCH_SEARCH_FINDINGS ?? 5000);
const searchQueries = Number(process.env.BENCH_SEARCH_QUERIES ?? 50);
const fixtures = join(here, '../../../packages/nessus-sim/fixtures');

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A second scan of the same hosts: each ReportHost drifted as the simulator drifts run 2 (rate 0.03). */
function drift(xml, run, rate = 0.03) {
  return xml.replace(/(<ReportHost\b[^>]*\bname="([^"]*)"[^>]*>)([\s\S]*?)(<\/ReportHost>\s*)/g, (whole, open, name, body, close) => {
    if (hostDown(name, run, rate)) return '';
    const cut = body.indexOf('</HostProperties>');
    if (cut < 0) return whole;
    const head = body.slice(0, cut + '</HostProperties>'.length);
    return open + head + driftItems(body.slice(head.length), name, run, rate) + close;
  });
}

let children = [];
async function startGateway(redisUrl, dataDir, workDir) {
  writeFileSync(
    join(workDir, 'scanners.yaml'),
    [
      'default_pool: bench',
      'pools:',
      '  - name: bench',
      '    type: mock',
      '    instances:',
      '      - instance_id: mock1',
      '        name: Bench mock',
      '        url: http://127.0.0.1:9',
      '        access_key: a',
      '        secret_key: b',
      '        max_concurrent_scans: 4',
      'allowed_targets:',
      '  - "10.0.0.0/8"',
    ].join('\n'),
  );
  const port = await findFreePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: gatewayDir,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      SCANNERS_CONFIG: join(workDir, 'scanners.yaml'),
      AUTH_TOKEN: token,
      GATEWAY_PORT: String(port),
      LOG_LEVEL: 'warn',
      GATEWAY_RATE_LIMIT_PER_SECOND: '1000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (
    let attempt = 0;
    !(await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    ));
    attempt += 1
  ) {
    if (attempt > 150 || child.exitCode !== null) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid, child };
}

/** Submits a task, then does what the worker does: ingest, and complete it together with its index entry. */
async function completedScan(gateway, tasks, dataDir, xml, completedAt, name) {
  const submit = () =>
    fetch(`${gateway.url}/api/v1/scans/untrusted`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ targets: '10.0.0.0/16', name }),
    });
  // After a long ingest the pooled keep-alive connection may have been closed by the server.
  const submitted = await (await submit().catch(() => submit())).json();
  const id = submitted.task_id;
  const files = new LocalTaskFiles(dataDir);
  await files.writeExport(id, (staging) => writeFile(staging, xml));
  const summary = await ingestExport({ files, taskId: id, credentialed: false });
  const fingerprints = await (await files.findFingerprint(id)).load();
  const task = await tasks.require(id);
  await tasks.update(
    id,
    { status: 'completed', started_at: completedAt, completed_at: completedAt, progress: 100, results_summary: resultFiguresOf(summary) },
    ['queued', 'running'],
    {
      record: {
        task_id: id,
        name,
        scan_type: 'untrusted',
        targets: task.targets,
        created_at: task.created_at,
        completed_at: completedAt,
        hosts_scanned: summary.hosts_scanned,
        store_expired_at: null,
      },
      postings: postingsOf(fingerprints),
    },
  );
  return { id, findings: summary.findings_total };
}

const get = async (url) => {
  const started = performance.now();
  const response = await fetch(url, { headers: auth });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`);
  return { ms: performance.now() - started, text };
};

const workDir = mkdtempSync(join(tmpdir(), 'cross-scan-bench-'));
const dataDir = join(workDir, 'data');
let redis = null;
const figures = {};
try {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    redis = await startRedisServer();
    redisUrl = redis.url;
  }
  const redisClient = createRedisConnection(redisUrl, 'producer');
  const tasks = new TaskStore(redisClient);
  let gateway = await startGateway(redisUrl, dataDir, workDir);

  if (existsSync(bigExport)) {
    const xml = readFileSync(bigExport, 'utf8');
    const base = await completedScan(gateway, tasks, dataDir, xml, '2025-12-01T10:00:00.000Z', 'bench week 1');
    const next = await completedScan(gateway, tasks, dataDir, drift(xml, 2), '2025-12-08T10:00:00.000Z', 'bench week 2');
    // A fresh gateway: nothing loaded, nothing cached.
    gateway.child.kill('SIGTERM');
    await new Promise((r) => gateway.child.once('exit', r));
    gateway = await startGateway(redisUrl, dataDir, workDir);
    // Warm the process itself (routes, Redis connection, JIT) with a request that loads nothing of
    // either scan: "cold" means no fingerprint, join, selection or store cached.
    await get(`${gateway.url}/api/v1/tasks/${next.id}`);
    await get(`${gateway.url}/api/v1/tasks?limit=1`);
    const rssStart = rssOf(gateway.pid);
    const delta = `${gateway.url}/api/v1/tasks/${next.id}/delta?base_task_id=${base.id}&page_size=40`;
    const first = await get(`${delta}&page=1`);
    const lines = first.text.split('\n');
    const summary = JSON.parse(lines[1]);
    const totalPages = JSON.parse(lines[0]).total_pages;
    const times = [];
    for (let i = 0; i < pages; i += 1) times.push((await get(`${delta}&page=${2 + Math.floor(Math.random() * Math.max(1, totalPages - 1))}`)).ms);
    const filtered = await get(`${delta}&page=1&change=new,changed,fixed&filters=${encodeURIComponent(JSON.stringify({ severity: '>=3' }))}&sort=severity`);
    times.sort((a, b) => a - b);
    const rssEnd = rssOf(gateway.pid);
    figures.compare = {
      findings: [base.findings, next.findings],
      counts: summary.counts,
      first_page_cold_ms: Math.round(first.ms),
      next_pages_p50_ms: Number(percentile(times, 50).toFixed(1)),
      next_pages_p95_ms: Number(percentile(times, 95).toFixed(1)),
      filtered_first_page_ms: Math.round(filtered.ms),
      rss_start_mb: Math.round(rssStart),
      rss_end_mb: Math.round(rssEnd),
    };
    console.log(`compare_scans ${base.findings} vs ${next.findings} findings: counts ${JSON.stringify(summary.counts)}`);
    console.log(
      `  first page cold ${first.ms.toFixed(0)} ms (goal ≤ 1500); next ${pages} pages p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms (goal ≤ 100)`,
    );
    console.log(
      `  new query (filters + change + sort) first page ${filtered.ms.toFixed(0)} ms; gateway RSS ${rssStart.toFixed(0)} MB → ${rssEnd.toFixed(0)} MB`,
    );
  } else console.log(`compare skipped: no export at ${bigExport} (run the results bench first)`);

  if (searchScans > 0) {
    // 100 scans of about 5k findings: the simulator's fixture hosts repeated, each scan a drifted run.
    const hostsXml = readdirSync(fixtures)
      .filter((f) => f.endsWith('.nessus'))
      .flatMap((f) => [...readFileSync(join(fixtures, f), 'utf8').matchAll(/<ReportHost\b[\s\S]*?<\/ReportHost>/g)].map((m) => m[0]));
    const perHost = hostsXml.map((h) => h.split('<ReportItem').length - 1);
    const bodies = [];
    let count = 0;
    for (let i = 0; count < searchFindings; i += 1) {
      const host = hostsXml[i % hostsXml.length];
      count += perHost[i % hostsXml.length];
      const ip = `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
      bodies.push(
        host.replace(/<ReportHost\b[^>]*>/, `<ReportHost name="${ip}">`).replace(/<tag name="host-ip">[^<]*<\/tag>/, `<tag name="host-ip">${ip}</tag>`),
      );
    }
    const head = '<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Report name="bench" xmlns:cm="http://www.nessus.org/cm">\n';
    const small = `${head}${bodies.join('\n')}\n</Report>\n</NessusClientData_v2>\n`;
    const started = performance.now();
    for (let run = 1; run <= searchScans; run += 1) {
      await completedScan(
        gateway,
        tasks,
        dataDir,
        run === 1 ? small : drift(small, run),
        new Date(Date.UTC(2025, 0, 1) + run * 3600_000).toISOString(),
        `search ${run}`,
      );
    }
    console.log(
      `\nsearch_findings: ${searchScans} scans of about ${count} findings ingested and indexed in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    const cves = [...new Set([...small.matchAll(/<cve>([^<]+)<\/cve>/g)].map((m) => m[1]))];
    const searchTimes = [];
    let occurrences = 0;
    for (let i = 0; i < searchQueries; i += 1) {
      const cve = cves[Math.floor(Math.random() * cves.length)];
      const scope = i % 2 === 0 ? 'latest' : 'history';
      const result = await get(`${gateway.url}/api/v1/findings/search?cve=${cve}&scope=${scope}&page_size=40`);
      occurrences = Math.max(occurrences, JSON.parse(result.text.split('\n')[0]).total_occurrences);
      searchTimes.push(result.ms);
    }
    searchTimes.sort((a, b) => a - b);
    figures.search = {
      scans: searchScans,
      findings_per_scan: count,
      queries: searchQueries,
      p50_ms: Number(percentile(searchTimes, 50).toFixed(1)),
      p95_ms: Number(percentile(searchTimes, 95).toFixed(1)),
      max_occurrences: occurrences,
    };
    console.log(
      `  ${searchQueries} CVE searches (latest and history): p50 ${percentile(searchTimes, 50).toFixed(1)} ms, p95 ${percentile(searchTimes, 95).toFixed(1)} ms (goal ≤ 300); up to ${occurrences} occurrences`,
    );
  }
  redisClient.disconnect();
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', 'cross-scan-bench.json'), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.on('exit', r)) : null)));
  await redis?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
