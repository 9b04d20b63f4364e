// Scale benchmark: one worker process drives BENCH_SCANS concurrent scans (500) across
// BENCH_SCANNERS simulated Nessus instances (50, one simulator process serving them all, each
// refusing launches past its own max_concurrent_scans), while BENCH_AGENTS agents (200) poll
// get_scan_status through the gateway's MCP endpoint. It prints each figure beside its goal:
//   worker CPU       < 50 % of one core with every scan in flight
//   worker RSS       < 1 GB with every scan in flight
//   Redis            < 20 commands per scan-minute while the scans are polled (worker only)
//   overhead         ≤ 2 s + ingest time, from the run's end on the simulator to the task being
//                    completed (results readable through the gateway, checked for every task)
//   get_scan_status  p99 from the agents (reported; its ratio goals are the gateway bench's)
// Timeline: submit every scan through REST, wait until all are running on the simulator, then
// measure window A (worker alone) and window B (the agents polling too), both before the first
// scan can end; the agents go on polling until every task has ended. Redis commands come from
// INFO commandstats deltas (commands run inside Lua scripts count, as Redis executes them).
// Scan durations are spread over BENCH_SCAN_SECONDS × (1 ± BENCH_SCAN_SPREAD/2) across the
// instances, so the scans do not all end in the same second.
// Environment: BENCH_SCANS (500), BENCH_SCANNERS (50), BENCH_MAX_CONCURRENT (scans/scanners,
// rounded up), BENCH_SCAN_SECONDS (180), BENCH_SCAN_SPREAD (0.5), BENCH_TARGETS (10.0.0.1-2: two
// hosts, a 50 KB export), BENCH_AGENTS (200), BENCH_AGENT_POLL_MS (1000: each agent's pause
// between calls), BENCH_SCANNERS_YAML_SCANS (extra YAML lines for the `scans:` section, e.g.
// poll settings), BENCH_CPU_PROF (a directory: the worker writes a V8 CPU profile there on exit),
// REDIS_URL (else an embedded redis-server; a shared one mixes other commands into the figures).
// Quick run: BENCH_SCANS=50 BENCH_SCANNERS=5 BENCH_SCAN_SECONDS=30 BENCH_AGENTS=20 npm run bench -w @nessus-mcp/worker
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { findFreePort, startRedisServer } from '@nessus-mcp/embedded-redis';
import { parseTaskId } from '@nessus-mcp/scanners';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const num = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
};
const SCANS = num('BENCH_SCANS', 500);
const SCANNERS = num('BENCH_SCANNERS', 50);
const MAX_CONCURRENT = num('BENCH_MAX_CONCURRENT', Math.ceil(SCANS / SCANNERS));
const SCAN_SECONDS = num('BENCH_SCAN_SECONDS', 180);
const SPREAD = num('BENCH_SCAN_SPREAD', 0.5);
const TARGETS = process.env.BENCH_TARGETS ?? '10.0.0.1-2';
const AGENTS = num('BENCH_AGENTS', 200);
const AGENT_POLL_MS = num('BENCH_AGENT_POLL_MS', 1000);
const cpuProfileDir = process.env.BENCH_CPU_PROF;
const token = `bench-${randomBytes(12).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };
const children = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

for (const dist of ['apps/worker/dist/main.js', 'apps/gateway/dist/main.js', 'packages/nessus-sim/dist/bin.js']) {
  if (!existsSync(join(root, dist))) throw new Error(`${dist} is missing: run \`npx turbo run build\` at the repository root first`);
}

function start(label, args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = label;
  children.push(child);
  // Drain both pipes: an undrained pipe blocks the child once 64 KiB pile up.
  child.stdout.resume();
  child.on('exit', (code, signal) => {
    if (!shuttingDown) log(`${label} exited early (${code ?? signal})`);
  });
  return child;
}
let shuttingDown = false;

/** The simulator fleet's URLs, from its "listening on URL" lines. */
function simulatorUrls(child, count) {
  return new Promise((resolve, reject) => {
    const urls = [];
    let buffered = '';
    child.stderr.on('data', (chunk) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match) urls.push(match[1]);
        else if (line.trim() && !line.includes('faults now')) process.stderr.write(`sim: ${line}\n`);
        if (urls.length === count) resolve(urls);
      }
    });
    child.on('exit', (code) => reject(new Error(`the simulator exited (${code}) before all ${count} instances listened`)));
  });
}

const cpuSecondsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const memoryOf = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
};

/** Total commands Redis executed, and per command, from INFO commandstats. */
async function commandStats(redis) {
  const text = await redis.info('commandstats');
  const byCommand = {};
  let total = 0;
  for (const match of text.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)) {
    byCommand[match[1]] = Number(match[2]);
    total += Number(match[2]);
  }
  return { total, byCommand };
}

function topCommands(before, after, count = 6) {
  return Object.entries(after.byCommand)
    .map(([name, calls]) => [name, calls - (before.byCommand[name] ?? 0)])
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, calls]) => `${name} ${calls}`)
    .join(', ');
}

/** CPU, memory and Redis commands over one window. */
async function measureWindow(label, seconds, pids, redis, scansInFlight) {
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  const statsBefore = await commandStats(redis);
  const started = performance.now();
  const rssSamples = [];
  while (performance.now() - started < seconds * 1000) {
    await sleep(Math.min(1000, seconds * 1000 - (performance.now() - started)));
    rssSamples.push(memoryOf(pids.worker).rssMb);
  }
  const wall = (performance.now() - started) / 1000;
  const statsAfter = await commandStats(redis);
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (cpuSecondsOf(pid) - cpuBefore[name]) / wall]));
  // The two INFO calls of this window are the benchmark's own.
  const commands = statsAfter.total - statsBefore.total - 2;
  const result = {
    label,
    seconds: Number(wall.toFixed(1)),
    scans_in_flight: scansInFlight(),
    cpu_share_of_one_core: Object.fromEntries(Object.entries(cpu).map(([name, share]) => [name, Number(share.toFixed(3))])),
    worker_rss_mb: Number(Math.max(...rssSamples).toFixed(1)),
    redis_commands: commands,
    redis_commands_per_second: Number((commands / wall).toFixed(1)),
    redis_top_commands: topCommands(statsBefore, statsAfter),
  };
  result.redis_commands_per_scan_minute = Number((commands / (result.scans_in_flight * (wall / 60))).toFixed(2));
  return result;
}

async function gatewayJson(gatewayUrl, method, path, body) {
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

/** 200 agents, each polling one task's status through MCP with a pause between calls. */
function startAgents(gatewayUrl, taskIds) {
  const latencies = [];
  let errors = 0;
  let lastError = null;
  let running = true;
  let nextId = 1;
  const agent = async (index) => {
    const taskId = taskIds[index % taskIds.length];
    // Agents start spread over one poll interval, as independent agents would.
    await sleep(Math.random() * AGENT_POLL_MS);
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${gatewayUrl}/mcp`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'get_scan_status', arguments: { task_id: taskId } } }),
        });
        const reply = await response.json();
        if (!response.ok || reply.error || reply.result?.isError) throw new Error(JSON.stringify(reply).slice(0, 300));
        latencies.push(performance.now() - started);
      } catch (error) {
        errors += 1;
        lastError = error instanceof Error ? error.message : String(error);
      }
      await sleep(AGENT_POLL_MS);
    }
  };
  const loops = Array.from({ length: AGENTS }, (_, index) => agent(index));
  return {
    calls: () => latencies.length,
    async stop() {
      running = false;
      await Promise.all(loops);
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
      return {
        calls: sorted.length,
        errors,
        last_error: lastError,
        p50_ms: Number(at(50).toFixed(1)),
        p99_ms: Number(at(99).toFixed(1)),
        max_ms: Number((sorted.at(-1) ?? NaN).toFixed(1)),
      };
    },
  };
}

/** Sum of every instance's /_sim/runs. */
async function fleetRuns(urls) {
  const reports = await Promise.all(urls.map(async (url) => ({ url, report: await (await fetch(`${url}/_sim/runs`)).json() })));
  return reports;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const verdict = (ok) => (ok ? 'met' : 'NOT MET');

const workDir = mkdtempSync(join(tmpdir(), 'worker-bench-'));
let redisServer = null;
let redis = null;
let agents = null;
try {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    redisServer = await startRedisServer();
    redisUrl = redisServer.url;
  }
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const machine = `${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
  log(
    `${SCANS} scans on ${SCANNERS} simulated scanners (max_concurrent_scans ${MAX_CONCURRENT}), ${SCAN_SECONDS} s ± ${((SPREAD / 2) * 100).toFixed(0)} % each, ${AGENTS} agents polling every ${AGENT_POLL_MS} ms; ${machine}`,
  );

  const sim = start(
    'simulator',
    [
      'packages/nessus-sim/dist/bin.js',
      '--instances',
      String(SCANNERS),
      '--port',
      '0',
      '--max-concurrent-scans',
      String(MAX_CONCURRENT),
      '--scan-seconds',
      String(SCAN_SECONDS),
      '--log-level',
      'info',
    ],
    {},
  );
  const simUrls = await simulatorUrls(sim, SCANNERS);
  // Spread the scan durations across the instances (read by the simulator at each launch).
  const durations = simUrls.map((_, index) => SCAN_SECONDS * (1 - SPREAD / 2 + (SCANNERS > 1 ? (SPREAD * index) / (SCANNERS - 1) : SPREAD / 2)));
  await Promise.all(
    simUrls.map((url, index) =>
      fetch(`${url}/_sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scan_seconds: durations[index] }) }),
    ),
  );

  const pool = 'bench';
  const yaml = [
    `default_pool: ${pool}`,
    'pools:',
    `  - name: ${pool}`,
    '    type: nessus',
    '    folder: nessus-mcp',
    '    instances:',
    ...simUrls.flatMap((url, index) => [
      `      - instance_id: sim${index + 1}`,
      `        name: Simulated scanner ${index + 1}`,
      `        url: ${url}`,
      '        access_key: sim-access-key',
      '        secret_key: sim-secret-key',
      `        max_concurrent_scans: ${MAX_CONCURRENT}`,
    ]),
    'allowed_targets:',
    '  - 10.0.0.0/8',
    'scans:',
    '  timeout_minutes: 120',
    ...(process.env.BENCH_SCANNERS_YAML_SCANS ?? '')
      .split('\\n')
      .filter(Boolean)
      .map((line) => `  ${line.trim()}`),
  ].join('\n');
  writeFileSync(join(workDir, 'scanners.yaml'), `${yaml}\n`);
  const common = {
    REDIS_URL: redisUrl,
    DATA_DIR: join(workDir, 'data'),
    SCANNERS_CONFIG: join(workDir, 'scanners.yaml'),
    LOG_LEVEL: 'warn',
    CREDENTIALS_KEY: randomBytes(32).toString('base64'),
  };
  const metricsPort = await findFreePort();
  const worker = start('worker', [...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : []), 'apps/worker/dist/main.js'], {
    ...common,
    WORKER_METRICS_PORT: String(metricsPort),
  });
  worker.stderr.on('data', (chunk) => process.stderr.write(`worker: ${chunk}`));
  const gatewayPort = await findFreePort();
  const gateway = start('gateway', ['apps/gateway/dist/main.js'], {
    ...common,
    AUTH_TOKEN: token,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_RATE_LIMIT_PER_SECOND: '1000000',
  });
  gateway.stderr.on('data', (chunk) => process.stderr.write(`gateway: ${chunk}`));
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  for (let attempt = 0; ; attempt += 1) {
    const up = await Promise.all(
      [fetch(`${gatewayUrl}/health`), fetch(`http://127.0.0.1:${metricsPort}/health`)].map((p) =>
        p.then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    if (up.every(Boolean)) break;
    if (attempt > 150) throw new Error('the gateway or the worker did not start');
    await sleep(200);
  }

  // Submit every scan through the REST mirror, 20 at a time.
  const submitStarted = Date.now();
  const taskIds = [];
  for (let next = 0; next < SCANS;) {
    const batch = Array.from({ length: Math.min(20, SCANS - next) }, (_, i) => next + i);
    next += batch.length;
    const ids = await Promise.all(
      batch.map(async (i) => JSON.parse(await gatewayJson(gatewayUrl, 'POST', '/api/v1/scans/untrusted', { targets: TARGETS, name: `bench ${i}` })).task_id),
    );
    taskIds.push(...ids);
  }
  log(`submitted ${taskIds.length} scans in ${((Date.now() - submitStarted) / 1000).toFixed(1)} s`);

  // Wait until every scan runs on the simulator.
  let launchedAll = null;
  for (;;) {
    const reports = await fleetRuns(simUrls);
    const launched = reports.reduce((sum, { report }) => sum + report.runs.length, 0);
    if (launched >= SCANS) {
      launchedAll = reports;
      break;
    }
    if (Date.now() - submitStarted > Math.max(120_000, SCAN_SECONDS * 500)) throw new Error(`only ${launched} of ${SCANS} scans were launched`);
    await sleep(500);
  }
  const launchSpan = (Date.now() - submitStarted) / 1000;
  log(`all ${SCANS} scans running on the simulator ${launchSpan.toFixed(1)} s after the first submission`);
  // Both windows end before the first scan can end on the simulator.
  const firstEnd = Math.min(...launchedAll.flatMap(({ report }, index) => report.runs.map((run) => run.launched_at_ms + durations[index] * 1000)));
  const steadySeconds = (firstEnd - Date.now()) / 1000 - 4;
  if (steadySeconds < 10)
    log(`warning: only ${steadySeconds.toFixed(0)} s before the first scan ends; use longer scans (BENCH_SCAN_SECONDS) for steadier figures`);
  const windowSeconds = Math.max(3, (steadySeconds - 4) / 2);
  const inFlight = () => SCANS;
  const pids = { worker: worker.pid, gateway: gateway.pid, ...(redisServer ? { redis: redisServer.pid } : {}), simulator: sim.pid };

  // Let the scans leave `pending` (at most 1 s) and the watcher record it: a one-off per scan.
  await sleep(4000);
  const windowA = await measureWindow('worker only', windowSeconds - 1, pids, redis, inFlight);
  log(`window A (${windowA.seconds} s, worker only): ${JSON.stringify(windowA)}`);
  agents = startAgents(gatewayUrl, taskIds);
  const windowB = await measureWindow('with agents', windowSeconds, pids, redis, inFlight);
  const agentCallsB = agents.calls();
  log(`window B (${windowB.seconds} s, ${AGENTS} agents polling): ${JSON.stringify(windowB)}`);

  // Wait for every task to end, then read each one and check its results through the gateway.
  const tasks = new Map();
  const deadline = Date.now() + SCAN_SECONDS * 3000 + 120_000;
  while (tasks.size < taskIds.length) {
    if (Date.now() > deadline) throw new Error(`only ${tasks.size} of ${taskIds.length} tasks ended in time`);
    await sleep(2000);
    for (const id of taskIds) {
      if (tasks.has(id)) continue;
      const task = JSON.parse(await gatewayJson(gatewayUrl, 'GET', `/api/v1/tasks/${id}`));
      if (['completed', 'failed', 'cancelled', 'timeout'].includes(task.status)) tasks.set(id, task);
    }
  }
  const statusCalls = await agents.stop();
  agents = null;
  const workerMemory = memoryOf(worker.pid);
  // Each Nessus scan's name carries its task id.
  const fleet = (await fleetRuns(simUrls)).map(({ report }) => report);
  const ended = new Map(fleet.flatMap((report) => report.runs.map((run) => [parseTaskId(run.name), run])));
  const overheads = [];
  let unreadable = 0;
  const failed = [];
  for (const [id, task] of tasks) {
    if (task.status !== 'completed') {
      failed.push(`${id}: ${task.status} ${task.error?.message ?? ''}`);
      continue;
    }
    const run = ended.get(id);
    if (run?.ended_at_ms) overheads.push((Date.parse(task.completed_at) - run.ended_at_ms) / 1000);
    const page = await fetch(`${gatewayUrl}/api/v1/tasks/${id}/results?page_size=1`, { headers: auth });
    if (!page.ok) unreadable += 1;
    await page.arrayBuffer();
  }
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const metric = (name, labels) => Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
  const meanStep = (step) =>
    metric('nessus_mcp_worker_step_duration_seconds_sum', `step="${step}"`) / metric('nessus_mcp_worker_step_duration_seconds_count', `step="${step}"`);
  const ingestMean = meanStep('ingest');
  const exportMean = meanStep('export');
  const stepMeans = Object.fromEntries(['select', 'poll', 'export', 'ingest', 'complete'].map((step) => [step, Number(meanStep(step).toFixed(3))]));

  const figures = {
    machine,
    scans: SCANS,
    scanners: SCANNERS,
    max_concurrent_scans: MAX_CONCURRENT,
    scan_seconds: SCAN_SECONDS,
    scan_spread: SPREAD,
    targets: TARGETS,
    agents: AGENTS,
    agent_poll_ms: AGENT_POLL_MS,
    launch_span_s: Number(launchSpan.toFixed(1)),
    window_a: windowA,
    window_b: windowB,
    agent_calls_in_window_b: agentCallsB,
    get_scan_status: statusCalls,
    worker_rss_end_mb: Number(workerMemory.rssMb.toFixed(1)),
    worker_rss_peak_mb: Number(workerMemory.peakMb.toFixed(1)),
    completed: overheads.length,
    failed,
    unreadable_results: unreadable,
    simulator_peak_active: Math.max(...fleet.map((r) => r.peak_active)),
    simulator_refused_launches: fleet.reduce((sum, r) => sum + r.refused_launches, 0),
    overhead_s: overheads.length
      ? {
          p50: percentile(overheads, 50),
          p95: percentile(overheads, 95),
          max: Math.max(...overheads),
          mean: overheads.reduce((a, b) => a + b, 0) / overheads.length,
        }
      : null,
    ingest_mean_s: ingestMean,
    export_step_mean_s: exportMean,
    step_means_s: stepMeans,
  };

  const cpuA = windowA.cpu_share_of_one_core.worker;
  const cpuB = windowB.cpu_share_of_one_core.worker;
  const rss = Math.max(windowA.worker_rss_mb, windowB.worker_rss_mb);
  const perScanMinute = windowA.redis_commands_per_scan_minute;
  const overheadGoal = 2 + ingestMean;
  const agentCommands = windowB.redis_commands - (windowA.redis_commands / windowA.seconds) * windowB.seconds;
  console.log(`\nScale benchmark: ${SCANS} scans in flight on ${SCANNERS} simulated scanners; ${machine}`);
  console.log(
    `  worker CPU, all scans in flight      ${(cpuA * 100).toFixed(1)} % of one core (${(cpuB * 100).toFixed(1)} % while agents poll)   goal < 50 %: ${verdict(Math.max(cpuA, cpuB) < 0.5)}`,
  );
  console.log(
    `  worker RSS, all scans in flight      ${rss.toFixed(0)} MB (peak over the run ${workerMemory.peakMb.toFixed(0)} MB)   goal < 1024 MB: ${verdict(rss < 1024)}`,
  );
  console.log(
    `  Redis, worker polling                ${windowA.redis_commands_per_second} commands/s, ${perScanMinute} per scan-minute   goal < 20 per scan-minute: ${verdict(perScanMinute < 20)}`,
  );
  console.log(`    top commands: ${windowA.redis_top_commands}`);
  console.log(
    `  Redis, agents polling too            ${windowB.redis_commands_per_second} commands/s, ${windowB.redis_commands_per_scan_minute} per scan-minute; ~${(agentCommands / Math.max(agentCallsB, 1)).toFixed(1)} commands per get_scan_status call`,
  );
  if (figures.overhead_s) {
    const o = figures.overhead_s;
    console.log(
      `  overhead, end on Nessus → completed  p50 ${o.p50.toFixed(2)} s, p95 ${o.p95.toFixed(2)} s, max ${o.max.toFixed(2)} s (mean ingest ${ingestMean.toFixed(2)} s, mean export step ${exportMean.toFixed(2)} s)   goal ≤ 2 s + ingest = ${overheadGoal.toFixed(2)} s at p95: ${verdict(o.p95 <= overheadGoal)}`,
    );
  }
  console.log(`    mean seconds per step run (over the whole run): ${JSON.stringify(stepMeans)}`);
  console.log(
    `  get_scan_status, ${AGENTS} agents         p50 ${statusCalls.p50_ms} ms, p99 ${statusCalls.p99_ms} ms, max ${statusCalls.max_ms} ms over ${statusCalls.calls} calls, ${statusCalls.errors} errors${statusCalls.last_error ? ` (last: ${statusCalls.last_error})` : ''}`,
  );
  console.log(
    `  completed ${overheads.length} / ${SCANS}, results unreadable ${unreadable}, simulator peak ${figures.simulator_peak_active} runs per instance (limit ${MAX_CONCURRENT}), launches refused ${figures.simulator_refused_launches}`,
  );
  for (const failure of failed.slice(0, 5)) console.log(`  failed: ${failure}`);
  console.log(
    `  CPU share of one core in window A: ${JSON.stringify(windowA.cpu_share_of_one_core)}; window B: ${JSON.stringify(windowB.cpu_share_of_one_core)}`,
  );
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', 'scale-bench.json'), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  shuttingDown = true;
  await agents?.stop().catch(() => undefined);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.on('exit', r)) : null)));
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
