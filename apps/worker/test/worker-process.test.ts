import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { findFreePort } from '@nessus-mcp/embedded-redis';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import {
  CREDENTIALS_KEY,
  GatewayStandIn,
  flushDb,
  redisUrlForDb,
  removeDir,
  simCounts,
  startSim,
  tempDir,
  waitFor,
  waitForStatus,
  writeScannersConfig,
} from './worker-harness.js';

const REDIS_URL = redisUrlForDb(3);
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

describe('the worker process (node dist/main.js)', () => {
  let sim: RunningSimulator;
  let dir: string;
  let configPath: string;
  let gateway: GatewayStandIn;
  const running: WorkerProcess[] = [];

  const baseEnv = (): NodeJS.ProcessEnv => ({
    REDIS_URL,
    DATA_DIR: dir,
    SCANNERS_CONFIG: configPath,
    CREDENTIALS_KEY: CREDENTIALS_KEY.toString('base64'),
    WORKER_METRICS_PORT: '0',
    // Short locks so a killed worker's job is taken over in about 3 s instead of a minute.
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  });
  const start = (env: NodeJS.ProcessEnv = {}): WorkerProcess => {
    const worker = spawnWorker({ ...baseEnv(), ...env });
    running.push(worker);
    return worker;
  };
  const kill = async (worker: WorkerProcess): Promise<void> => {
    worker.child.kill('SIGKILL');
    await worker.exited;
  };

  beforeAll(async () => {
    await flushDb(REDIS_URL);
    sim = await startSim();
    dir = tempDir('process');
    configPath = writeScannersConfig(dir, sim.url, { attempts: 5 });
    gateway = new GatewayStandIn(REDIS_URL);
  });

  afterEach(async () => {
    for (const worker of running.splice(0)) if (worker.child.exitCode === null && worker.child.signalCode === null) await kill(worker);
  });

  afterAll(async () => {
    await gateway.close();
    await sim.close();
    removeDir(dir);
  });

  it('exits 1 with a clear message when REDIS_URL is missing', async () => {
    const worker = start({ REDIS_URL: '' });
    expect((await worker.exited).code).toBe(1);
    expect(worker.output()).toMatch(/REDIS_URL is required/);
  });

  it('exits non-zero naming the problem when scanners.yaml is invalid', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'pools:\n  - name: main\n    instances: []\n');
    const worker = start({ SCANNERS_CONFIG: bad });
    expect((await worker.exited).code).not.toBe(0);
    expect(worker.output()).toMatch(/bad\.yaml is invalid[\s\S]*pools\[0\]\.instances: a pool needs at least one instance/);
  });

  it('serves /health and /metrics, reloads scanners.yaml on SIGHUP and exits 0 on SIGTERM', async () => {
    const port = await findFreePort();
    const worker = start({ WORKER_METRICS_PORT: String(port) });
    const health = await waitFor(() => fetch(`http://127.0.0.1:${port}/health`), { what: 'worker /health' });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      'nessus_mcp_worker_scans_total',
      'nessus_mcp_worker_scan_duration_seconds',
      'nessus_mcp_worker_step_duration_seconds',
      'nessus_mcp_worker_nessus_api_calls_total',
      'nessus_mcp_worker_ingest_bytes_total',
      'nessus_mcp_worker_process_cpu_seconds_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/nessus_mcp_worker_active_scans\{pool="main",instance="sim1"\} \d+/);

    writeScannersConfig(dir, sim.url, { attempts: 5, instances: 2 });
    worker.child.kill('SIGHUP');
    await waitFor(async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes('instance="sim2"'), {
      what: 'reloaded config in metrics',
    });
    writeScannersConfig(dir, sim.url, { attempts: 5 });

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('survives SIGKILL in every step: the restarted worker finishes the same Nessus scan, created and launched once', async () => {
    // Slow answers and a large export widen each step's window enough to kill inside it.
    sim.setFaults({ latency_ms: 300, scan_seconds: 2 });
    const task = await gateway.submit({ targets: ['10.1.0.0/24'] });
    const stepOf = async (): Promise<
      { step?: string; create_requested_at?: string; launch_requested_at?: string; nessus_scan_id?: string; launched_at?: string } | undefined
    > => (await gateway.queue.getJob(task.task_id))?.data.state;
    const inStep: Array<[string, (s: NonNullable<Awaited<ReturnType<typeof stepOf>>>) => boolean]> = [
      ['create', (s) => s.step === 'create' && !!s.create_requested_at && !s.nessus_scan_id],
      ['launch', (s) => s.step === 'launch' && !!s.launch_requested_at && !s.launched_at],
      ['poll', (s) => s.step === 'poll'],
      ['export', (s) => s.step === 'export'],
      ['ingest', (s) => s.step === 'ingest'],
    ];
    const killedIn: string[] = [];
    let worker = start();
    for (const [name, matches] of inStep) {
      await waitFor(
        async () => {
          const state = await stepOf();
          return state !== undefined && matches(state);
        },
        { timeoutMs: 30_000, intervalMs: 10, what: `task in step ${name}` },
      );
      await kill(worker);
      killedIn.push(name);
      if (name === 'export') sim.setFaults({ latency_ms: 0 });
      worker = start();
    }
    expect(killedIn).toEqual(['create', 'launch', 'poll', 'export', 'ingest']);
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed'], 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(done.results_summary).toMatchObject({ hosts_scanned: 256 });
    expect(simCounts(sim, task.task_id)).toEqual({ created: 1, launched: 1, stopped: 0 });
    expect(worker.output()).toContain(`"task_id":"${task.task_id}"`);
    expect(worker.output()).toContain(`"trace_id":"${task.trace_id}"`);
  }, 90_000);
});
