// Gateway benchmark, measured with the MCP Inspector's load mode (one client, BENCH_CONCURRENCY
// calls in flight) against a yardstick in the same run: the thinnest stateless MCP SDK server on
// Fastify with JSON responses and one trivial tool (yardstick-server.mjs). The machine is shared,
// so yardstick and gateway runs alternate (BENCH_ROUNDS rounds, in a rotating order) and the figures that count are
// the ratios of each pair, reported as their median. Each round also runs a second yardstick, the
// same bare SDK server answering get_scan_status with the gateway's own answer (recorded at the
// start): the load client runs on the same cores and pays for an answer's size too, so the gateway
// against that one is the gateway's own cost, and that one against echo is the answer's.
// Goals:
//   get_scan_status of a completed task   ≥ 0.9 × yardstick calls/s, p99 ≤ 1.5 × yardstick p99
//   run_untrusted_scan                    p99 ≤ 2 × the status p99
//   gateway RSS                           stable over BENCH_RSS_CALLS calls (100,000 for the goal)
// and the results pages through HTTP (GET /api/v1/tasks/{id}/results, p50 ≤ 20 ms, p95 ≤ 50 ms)
// on the export the results bench generated (BENCH_RESULTS_EXPORT to use another file).
// Environment: REDIS_URL (else an embedded redis-server), BENCH_DURATION_S (10 per run),
// BENCH_ROUNDS (6; each round runs the three servers in a rotated order), BENCH_CONCURRENCY (32), BENCH_RSS_CALLS (0 = skip the RSS run),
// BENCH_RESULTS_PAGES (200 per query), BENCH_RESULTS_RSS_PAGES (2,000 more pages for the RSS
// check), BENCH_CPU_PROF (a directory: the gateway and the yardstick write V8 CPU profiles there on exit),
// BENCH_STATUS_ONLY=1 (only the status rounds, e.g. for a profile of that path alone), BENCH_LIGHT_BLOCKS
// (10 interleaved blocks of the light-client CPU measure; 0 skips it).
// Besides calls/s, each run records the server's own CPU time per call (from /proc): unlike
// calls/s it hardly moves when other processes compete for the cores, so its ratio is the
// steadier estimate of how many calls each server could serve on the same machine.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { TaskStore, createRedisConnection } from '@nessus-mcp/core';
import { findFreePort as freePort, startRedisServer } from '@nessus-mcp/embedded-redis';
import { LocalTaskFiles, ingestExport, resultFiguresOf } from '@nessus-mcp/results';
import { concurrency, cpuSecondsOf, inspector, measured, median, startYardstick } from './load-client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
const gatewayDir = join(here, '..');
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const rssCalls = Number(process.env.BENCH_RSS_CALLS ?? 0);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));
const cpuProfileDir = process.env.BENCH_CPU_PROF;
const statusOnly = process.env.BENCH_STATUS_ONLY === '1';
const lightBlocks = Number(process.env.BENCH_LIGHT_BLOCKS ?? 10);
const token = `bench-${randomBytes(12).toString('hex')}`;
const children = [];

function start(command, args, env) {
  const child = spawn(command, args, { cwd: gatewayDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const fmt = (r) =>
  `${r.throughput.toFixed(0)} calls/s, p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, ${r.errors + r.toolErrors} errors / ${r.requests}` +
  (r.cpuMsPerCall ? `, server CPU ${r.cpuMsPerCall.map((ms) => ms.toFixed(2)).join(' + ')} ms/call, client ${r.clientCpuMsPerCall.toFixed(2)} ms/call` : '');

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const LIGHT_BLOCK_CALLS = 3000;

/**
 * Each target's CPU (from /proc) per tools/call under plain keep-alive HTTP requests, `concurrency`
 * in flight, in interleaved blocks so a slow spell of the shared machine hits every target alike.
 * Returns the median per target, in µs.
 */
async function lightLoad(targets, blocks) {
  const prepared = targets.map((target) => {
    const url = new URL(target.url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: target.tool, arguments: target.args } });
    const headers = {
      ...target.auth,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      'content-length': Buffer.byteLength(body),
    };
    return { ...target, url, body, headers, agent: new http.Agent({ keepAlive: true, maxSockets: concurrency }), samples: [] };
  });
  const call = (target) =>
    new Promise((resolve, reject) => {
      const request = http.request(
        { agent: target.agent, host: target.url.hostname, port: target.url.port, path: target.url.pathname, method: 'POST', headers: target.headers },
        (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${target.name}: HTTP ${response.statusCode}`))));
        },
      );
      request.on('error', reject);
      request.end(target.body);
    });
  const run = async (target, calls) => {
    let left = calls;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await call(target);
      }),
    );
  };
  for (const target of prepared) await run(target, 1000);
  for (let block = 0; block < blocks; block += 1) {
    for (const target of prepared) {
      const before = cpuSecondsOf(target.pid);
      await run(target, LIGHT_BLOCK_CALLS);
      target.samples.push(((cpuSecondsOf(target.pid) - before) * 1e6) / LIGHT_BLOCK_CALLS);
    }
  }
  for (const target of prepared) target.agent.destroy();
  return Object.fromEntries(prepared.map((target) => [target.name, median(target.samples)]));
}

/** A tool's listing and one tools/call result from an MCP endpoint, as plain JSON-RPC. */
async function recordedAnswer(url, auth, tool, args) {
  const rpc = async (method, params) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = await response.json();
    if (!body.result) throw new Error(`${method} failed: ${JSON.stringify(body)}`);
    return body.result;
  };
  const { tools } = await rpc('tools/list', {});
  return { tool: tools.find((t) => t.name === tool), result: await rpc('tools/call', { name: tool, arguments: args }) };
}

/** Submits a task and completes it the way the worker does (export ingested, then marked completed). */
async function completedTask(redisUrl, dataDir, gatewayUrl, auth, name, exportPath) {
  const submit = await fetch(`${gatewayUrl}/api/v1/scans/untrusted`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ targets: '10.0.0.0/24', name }),
  });
  const submitted = await submit.json();
  const id = submitted.task_id;
  if (!id) throw new Error(`could not submit the ${name} task: ${JSON.stringify(submitted)}`);
  const files = new LocalTaskFiles(dataDir);
  await files.writeExport(id, (staging) => copyFile(exportPath, staging));
  const summary = await ingestExport({ files, taskId: id, credentialed: false });
  const redisClient = createRedisConnection(redisUrl, 'producer');
  try {
    // A producer connection fails commands fast instead of queueing them: wait until it is up.
    if (redisClient.status !== 'ready') await new Promise((resolve) => redisClient.once('ready', resolve));
    const now = new Date().toISOString();
    await new TaskStore(redisClient).update(id, {
      status: 'completed',
      started_at: now,
      completed_at: now,
      progress: 100,
      results_summary: resultFiguresOf(summary),
    });
  } finally {
    redisClient.disconnect();
  }
  return { id, summary };
}

/** Completes a task with the large export, then pages its results over HTTP. */
async function resultsOverHttp(exportPath, redisUrl, dataDir, gatewayUrl, auth, gatewayPid) {
  const { id, summary } = await completedTask(redisUrl, dataDir, gatewayUrl, auth, 'bench results', exportPath);
  const queries = {
    '(a) no filter': {},
    '(b) severity >= 3': { filters: JSON.stringify({ severity: '>=3' }) },
    '(c) host CIDR /20': { filters: JSON.stringify({ host: '10.0.0.0/20' }) },
    '(d) CVE substring': { filters: JSON.stringify({ cve: 'CVE-2012-' }) },
    '(e) plugin_name + sort severity': { filters: JSON.stringify({ plugin_name: 'smb' }), sort: 'severity' },
    '(f) sort risk': { sort: 'risk' },
    '(g) severity >= 3 + sort risk': { filters: JSON.stringify({ severity: '>=3' }), sort: 'risk' },
  };
  const samples = Number(process.env.BENCH_RESULTS_PAGES ?? 200);
  const get = async (query) => {
    const response = await fetch(`${gatewayUrl}/api/v1/tasks/${id}/results?${new URLSearchParams(query)}`, { headers: auth });
    const text = await response.text();
    if (!response.ok) throw new Error(`results page failed: ${response.status} ${text.slice(0, 300)}`);
    return text;
  };
  const rows = {};
  const pageOf = async (query, pages) => {
    const page = 1 + Math.floor(Math.random() * pages);
    const start = performance.now();
    await get({ ...query, page, page_size: 40 });
    return performance.now() - start;
  };
  console.log(`\nresults over HTTP: ${summary.findings_total} findings, page_size 40, ${samples} random pages per query (goal p50 ≤ 20 ms, p95 ≤ 50 ms)`);
  const pagesOf = {};
  for (const [name, query] of Object.entries(queries)) {
    const schema = JSON.parse((await get({ ...query, page: 1, page_size: 40 })).split('\n')[0]);
    pagesOf[name] = Math.max(1, schema.total_pages ?? 1);
    const times = [];
    for (let i = 0; i < samples; i += 1) times.push(await pageOf(query, pagesOf[name]));
    times.sort((a, b) => a - b);
    rows[name] = { matches: schema.total_vulnerabilities, p50_ms: Number(percentile(times, 50).toFixed(2)), p95_ms: Number(percentile(times, 95).toFixed(2)) };
    console.log(
      `  ${name.padEnd(34)} ${String(schema.total_vulnerabilities).padStart(7)} matches  p50 ${percentile(times, 50).toFixed(1)} ms  p95 ${percentile(times, 95).toFixed(1)} ms`,
    );
  }
  rows.answers = await answersOverHttp(gatewayUrl, auth, id, samples);
  // Memory: the store's columns and selections are loaded by the pass above; serving more
  // pages of the same queries must not grow the gateway further.
  const rssBefore = rssOf(gatewayPid);
  const morePages = Number(process.env.BENCH_RESULTS_RSS_PAGES ?? 2000);
  const names = Object.keys(queries);
  const trace = [];
  for (let i = 0; i < morePages; i += 1) {
    const name = names[i % names.length];
    await pageOf(queries[name], pagesOf[name]);
    if ((i + 1) % Math.ceil(morePages / 8) === 0) trace.push(rssOf(gatewayPid).toFixed(0));
  }
  const rssAfter = rssOf(gatewayPid);
  console.log(`  gateway RSS over ${morePages} more pages: ${rssBefore.toFixed(1)} MB → ${rssAfter.toFixed(1)} MB (along the way: ${trace.join(', ')} MB)`);
  return { queries: rows, rss_pages: morePages, rss_before_mb: Number(rssBefore.toFixed(1)), rss_after_mb: Number(rssAfter.toFixed(1)) };
}

/**
 * Issue 14's answers on the same store: summarize_findings for every group_by with and without
 * filters (goal p95 ≤ 100 ms), get_finding, and report.html (goal ≤ 1 s and ≤ 1 MB).
 */
async function answersOverHttp(gatewayUrl, auth, id, samples) {
  const timed = async (path) => {
    const start = performance.now();
    const response = await fetch(`${gatewayUrl}${path}`, { headers: auth });
    const body = await response.text();
    if (!response.ok) throw new Error(`${path} failed: ${response.status} ${body.slice(0, 300)}`);
    return { ms: performance.now() - start, body };
  };
  // The first call of a query computes the grouping; repeats are answered from the store's cache.
  const p95Of = async (path, count) => {
    const times = [];
    for (let i = 0; i < count; i += 1) times.push((await timed(path)).ms);
    const first = times[0];
    times.sort((a, b) => a - b);
    return { first_ms: Number(first.toFixed(2)), p50_ms: Number(percentile(times, 50).toFixed(2)), p95_ms: Number(percentile(times, 95).toFixed(2)) };
  };
  const figures = { summary: {} };
  const summarySamples = Math.max(20, Math.floor(samples / 4));
  console.log(`\nsummarize_findings over HTTP, ${summarySamples} calls each (goal p95 ≤ 100 ms)`);
  const filtered = encodeURIComponent(JSON.stringify({ severity: '>=2', host: '10.0.0.0/16' }));
  for (const groupBy of ['severity', 'plugin_id', 'host', 'cve', 'port', 'plugin_family', 'solution']) {
    for (const [label, query] of [
      ['all', ''],
      ['filtered', `&filters=${filtered}`],
    ]) {
      const row = await p95Of(`/api/v1/tasks/${id}/summary?group_by=${groupBy}${query}`, summarySamples);
      figures.summary[`${groupBy}/${label}`] = row;
      console.log(
        `  ${`${groupBy} (${label})`.padEnd(34)} first ${row.first_ms.toFixed(1)} ms  p50 ${row.p50_ms.toFixed(1)} ms  p95 ${row.p95_ms.toFixed(1)} ms`,
      );
    }
  }
  const firstPage = await timed(`/api/v1/tasks/${id}/results?page=1&page_size=100&schema_profile=minimal`);
  const findingIds = firstPage.body
    .split('\n')
    .filter((line) => line.includes('"vulnerability"'))
    .map((line) => JSON.parse(line).finding_id);
  const findingTimes = [];
  for (let i = 0; i < summarySamples; i += 1) findingTimes.push((await timed(`/api/v1/tasks/${id}/findings/${findingIds[i % findingIds.length]}`)).ms);
  findingTimes.sort((a, b) => a - b);
  figures.get_finding = { p50_ms: Number(percentile(findingTimes, 50).toFixed(2)), p95_ms: Number(percentile(findingTimes, 95).toFixed(2)) };
  console.log(`  get_finding                        p50 ${figures.get_finding.p50_ms.toFixed(1)} ms  p95 ${figures.get_finding.p95_ms.toFixed(1)} ms`);
  const reports = [];
  let bytes = 0;
  for (let i = 0; i < 10; i += 1) {
    const report = await timed(`/api/v1/tasks/${id}/report.html`);
    reports.push(report.ms);
    bytes = Buffer.byteLength(report.body);
  }
  reports.sort((a, b) => a - b);
  figures.report_html = { first_ms: Number(reports.at(-1).toFixed(1)), p50_ms: Number(percentile(reports, 50).toFixed(1)), bytes };
  console.log(
    `  report.html                        p50 ${figures.report_html.p50_ms} ms, slowest ${figures.report_html.first_ms} ms, ${(bytes / 1024).toFixed(0)} KB (goal ≤ 1 s, ≤ 1 MB)`,
  );
  return figures;
}

const workDir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
let redis = null;
try {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    redis = await startRedisServer();
    redisUrl = redis.url;
  }
  const pool = `bench${randomBytes(2).toString('hex')}`;
  writeFileSync(
    join(workDir, 'scanners.yaml'),
    [
      `default_pool: ${pool}`,
      'pools:',
      `  - name: ${pool}`,
      '    type: mock',
      '    instances:',
      '      - instance_id: mock1',
      '        name: Bench mock',
      '        url: http://127.0.0.1:9',
      '        access_key: a',
      '        secret_key: b',
      '        max_concurrent_scans: 4',
    ].join('\n'),
  );
  const port = await freePort();
  // LOG_LEVEL=warn: request logging would measure pino, not the gateway.
  const profiled = (name) => (cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-name', `${name}.cpuprofile`] : []);
  const gateway = start(process.execPath, [...profiled('gateway'), 'dist/main.js'], {
    REDIS_URL: redisUrl,
    DATA_DIR: join(workDir, 'data'),
    SCANNERS_CONFIG: join(workDir, 'scanners.yaml'),
    AUTH_TOKEN: token,
    GATEWAY_PORT: String(port),
    LOG_LEVEL: 'warn',
    GATEWAY_RATE_LIMIT_PER_SECOND: '1000000',
  });
  gateway.stderr.on('data', (chunk) => process.stderr.write(chunk));
  const { child: yardstick, url: yardstickReady } = startYardstick({ nodeArgs: profiled('yardstick') });
  children.push(yardstick);
  const yardstickUrl = await yardstickReady;
  const gatewayUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    const ok = await fetch(`${gatewayUrl}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (attempt > 100 || gateway.exitCode !== null) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const auth = { authorization: `Bearer ${token}` };
  // The status call an agent polls with: a completed task, its export ingested as the worker does it.
  const statusExport = join(here, '../../../packages/nessus-parser/test/fixtures/savon-noir_python-libnessus__nessus_report_local_3.nessus');
  const { id: taskId } = await completedTask(redisUrl, join(workDir, 'data'), gatewayUrl, auth, 'bench status target', statusExport);
  const header = `Authorization: Bearer ${token}`;
  // The second yardstick: the bare SDK answering get_scan_status with the gateway's own listing
  // and answer for this task, recorded once here.
  // Kept in bench/out for answer-variants.mjs, which measures what the answer's parts cost the client.
  mkdirSync(outDir, { recursive: true });
  const answerPath = join(outDir, 'status-answer.json');
  writeFileSync(answerPath, JSON.stringify(await recordedAnswer(`${gatewayUrl}/mcp`, auth, 'get_scan_status', { task_id: taskId })));
  const { child: sameAnswer, url: sameAnswerReady } = startYardstick({
    answerFile: answerPath,
    nodeArgs: profiled('yardstick-answer'),
    label: 'same-answer yardstick',
  });
  children.push(sameAnswer);
  const sameAnswerUrl = await sameAnswerReady;

  console.log(`gateway ${gatewayUrl}, yardstick ${yardstickUrl}, concurrency ${concurrency}, ${rounds} rounds of ${duration} s per server`);
  // Warm the servers up (JIT, connection pools) so the first round is not the odd one out.
  await inspector(yardstickUrl, 'echo', { value: 'x' }, null, 5);
  await inspector(sameAnswerUrl, 'get_scan_status', { task_id: taskId }, null, 5);
  await inspector(`${gatewayUrl}/mcp`, 'get_scan_status', { task_id: taskId }, header, 5);
  const redisPid = redis?.pid;
  const pairs = [];
  for (let round = 1; round <= rounds; round += 1) {
    // The three servers take turns in a rotating order, so none always runs first or after the same one.
    const runs = [
      () => measured([yardstick.pid], yardstickUrl, 'echo', { value: 'x' }, null, duration),
      // The gateway's cost includes the Redis server it waits on, when this run started that server.
      () => measured(redisPid ? [gateway.pid, redisPid] : [gateway.pid], `${gatewayUrl}/mcp`, 'get_scan_status', { task_id: taskId }, header, duration),
      () => measured([sameAnswer.pid], sameAnswerUrl, 'get_scan_status', { task_id: taskId }, null, duration),
    ];
    const results = [];
    for (let turn = 0; turn < runs.length; turn += 1) {
      const which = (turn + round - 1) % runs.length;
      results[which] = await runs[which]();
    }
    const [yard, status, same] = results;
    const gatewayCpu = status.cpuMsPerCall.reduce((sum, ms) => sum + ms, 0);
    const pair = {
      yardstick: yard,
      get_scan_status: status,
      same_answer: same,
      ratio: status.throughput / yard.throughput,
      p99_ratio: status.latencyMs.p99 / yard.latencyMs.p99,
      cpu_ratio: yard.cpuMsPerCall[0] / gatewayCpu,
      same_answer_ratio: status.throughput / same.throughput,
      answer_ratio: same.throughput / yard.throughput,
    };
    pairs.push(pair);
    console.log(`round ${round}: yardstick echo      ${fmt(yard)}`);
    console.log(`round ${round}: gateway status     ${fmt(status)}`);
    console.log(`round ${round}: same-answer SDK    ${fmt(same)}`);
    console.log(
      `round ${round}: calls/s ratio ${pair.ratio.toFixed(2)}, p99 ratio ${pair.p99_ratio.toFixed(2)}, CPU-per-call ratio (yardstick/gateway) ${pair.cpu_ratio.toFixed(2)}, ` +
        `gateway/same-answer ${pair.same_answer_ratio.toFixed(2)}, same-answer/echo ${pair.answer_ratio.toFixed(2)}`,
    );
  }
  const ratio = median(pairs.map((pair) => pair.ratio));
  const p99Ratio = median(pairs.map((pair) => pair.p99_ratio));
  const cpuRatio = median(pairs.map((pair) => pair.cpu_ratio));
  const statusErrors = pairs.reduce((sum, pair) => sum + pair.get_scan_status.errors + pair.get_scan_status.toolErrors, 0);
  const figures = {
    rounds: pairs,
    status_vs_yardstick: Number(ratio.toFixed(2)),
    status_p99_vs_yardstick_p99: Number(p99Ratio.toFixed(2)),
    yardstick_cpu_per_call_vs_status: Number(cpuRatio.toFixed(2)),
    status_vs_same_answer: Number(median(pairs.map((pair) => pair.same_answer_ratio)).toFixed(2)),
    same_answer_vs_yardstick: Number(median(pairs.map((pair) => pair.answer_ratio)).toFixed(2)),
  };
  const verdict = (ok) => (ok ? 'met' : 'NOT MET');
  console.log(`\nget_scan_status (completed task) vs the bare SDK yardstick, median of ${rounds} interleaved rounds:`);
  console.log(`  calls/s ratio  ${figures.status_vs_yardstick}  (goal ≥ 0.9: ${verdict(ratio >= 0.9)})`);
  console.log(`  p99 ratio      ${figures.status_p99_vs_yardstick_p99}  (goal ≤ 1.5: ${verdict(p99Ratio <= 1.5)})`);
  console.log(
    `  CPU-per-call ratio, yardstick/gateway ${figures.yardstick_cpu_per_call_vs_status}  (the same goal on the steadier measure: ≥ 0.9: ${verdict(cpuRatio >= 0.9)})`,
  );
  console.log(`  errors         ${statusErrors}  (goal 0: ${verdict(statusErrors === 0)})`);
  console.log('where the calls/s gap lies (no goal; the load client shares the cores):');
  console.log(`  gateway / the bare SDK serving the same answer  ${figures.status_vs_same_answer}  (the gateway's own cost)`);
  console.log(`  the same answer / echo                          ${figures.same_answer_vs_yardstick}  (the answer's size, mostly in the client)`);
  const clientMs = (pick) => median(pairs.map((pair) => pick(pair).clientCpuMsPerCall));
  figures.client_cpu_ms_per_call = {
    yardstick: Number(clientMs((pair) => pair.yardstick).toFixed(3)),
    get_scan_status: Number(clientMs((pair) => pair.get_scan_status).toFixed(3)),
    same_answer: Number(clientMs((pair) => pair.same_answer).toFixed(3)),
  };
  console.log(
    `  load client CPU per call (median): echo ${figures.client_cpu_ms_per_call.yardstick} ms, gateway status ${figures.client_cpu_ms_per_call.get_scan_status} ms, ` +
      `same-answer ${figures.client_cpu_ms_per_call.same_answer} ms`,
  );
  if (lightBlocks > 0) {
    // The Inspector's client spends more CPU per call than any of these servers, on the same two
    // cores; a bare HTTP client sending the same JSON-RPC requests leaves the servers' own cost.
    const light = await lightLoad(
      [
        { name: 'yardstick echo', url: yardstickUrl, pid: yardstick.pid, tool: 'echo', args: { value: 'x' } },
        { name: 'same-answer SDK', url: sameAnswerUrl, pid: sameAnswer.pid, tool: 'get_scan_status', args: { task_id: taskId } },
        { name: 'gateway status', url: `${gatewayUrl}/mcp`, pid: gateway.pid, auth, tool: 'get_scan_status', args: { task_id: taskId } },
      ],
      lightBlocks,
    );
    figures.light_load_cpu_us_per_call = light;
    console.log(
      `server CPU per call under a light HTTP client (median of ${lightBlocks} interleaved blocks of ${LIGHT_BLOCK_CALLS} calls, ${concurrency} in flight):`,
    );
    for (const [name, us] of Object.entries(light)) console.log(`  ${name.padEnd(16)} ${us.toFixed(0)} µs`);
    const [echoUs, sameUs, gatewayUs] = Object.values(light);
    console.log(
      `  yardstick/gateway ${(echoUs / gatewayUs).toFixed(2)}, same-answer/gateway ${(sameUs / gatewayUs).toFixed(2)} (no goal: the servers' own CPU, client cost left out)`,
    );
  }
  if (!statusOnly) {
    const status = pairs[pairs.length - 1].get_scan_status;
    const scans = await inspector(`${gatewayUrl}/mcp`, 'run_untrusted_scan', { targets: '10.0.0.0/30', name: 'bench submit' }, header, duration);
    console.log(`gateway run_untrusted_scan: ${fmt(scans)}`);
    figures.run_untrusted_scan = scans;
    figures.submit_p99_vs_status_p99 = Number((scans.latencyMs.p99 / status.latencyMs.p99).toFixed(2));
    console.log(`  submit p99 / status p99 ${figures.submit_p99_vs_status_p99}  (goal ≤ 2: ${verdict(figures.submit_p99_vs_status_p99 <= 2)})`);
  }

  if (rssCalls > 0 && !statusOnly) {
    const before = rssOf(gateway.pid);
    const seconds = Math.ceil(rssCalls / Math.max(pairs[pairs.length - 1].get_scan_status.throughput, 1));
    const long = await inspector(`${gatewayUrl}/mcp`, 'get_scan_status', { task_id: taskId }, header, seconds);
    const after = rssOf(gateway.pid);
    figures.rss = { calls: long.requests, before_mb: Number(before.toFixed(1)), after_mb: Number(after.toFixed(1)) };
    console.log(`RSS over ${long.requests} calls: ${before.toFixed(1)} MB → ${after.toFixed(1)} MB`);
  }
  const exportPath = process.env.BENCH_RESULTS_EXPORT ?? join(here, '../../../packages/results/bench/out/export-250mb.nessus');
  if (statusOnly) console.log('results over HTTP skipped: BENCH_STATUS_ONLY=1');
  else if (existsSync(exportPath)) figures.results_http = await resultsOverHttp(exportPath, redisUrl, join(workDir, 'data'), gatewayUrl, auth, gateway.pid);
  else console.log(`results over HTTP skipped: no export at ${exportPath} (run the results bench first)`);
  writeFileSync(join(outDir, 'gateway-bench.json'), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.on('exit', r)) : null)));
  await redis?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
