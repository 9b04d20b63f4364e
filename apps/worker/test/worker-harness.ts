/**
 * What the worker tests share: a gateway stand-in (creates tasks and jobs, requests cancels the
 * way the gateway does), the real simulator, a scanners.yaml writer, an in-process worker and a
 * generous poll-until helper.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from '@jest/globals';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  TaskStore,
  createLogger,
  createRedisConnection,
  createScanQueue,
  loadScannersConfig,
  newTaskId,
  sealScanCredentials,
  type RedisClient,
  type ScanCredentials,
  type ScanQueue,
  type ScanJobData,
  type ScanJobResult,
  type ScanType,
  type ScannersConfig,
  type Task,
} from '@nessus-mcp/core';
import { LocalTaskFiles, ingestExport, type TaskFiles } from '@nessus-mcp/results';
import { startSimulator, type FaultPatch, type RunningSimulator } from '@nessus-mcp/nessus-sim';
import { startWorkerApp, type WorkerApp } from '../src/worker-app.js';

export const CREDENTIALS_KEY = Buffer.alloc(32, 7);
export const SSH_PASSWORD = 'scan-password';
export const ESCALATION_PASSWORD = 'esc-Secret-4711';

export function redisUrlForDb(db: number): string {
  const base = process.env.REDIS_URL;
  if (!base) throw new Error('REDIS_URL is not set: run the tests through jest with the redis globalSetup');
  return `${base.replace(/\/\d*$/, '')}/${db}`;
}

export async function flushDb(url: string): Promise<void> {
  const redis = new Redis(url);
  await redis.flushdb();
  await redis.quit();
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `nmcp-worker-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function startSim(faults: FaultPatch = {}): Promise<RunningSimulator> {
  return startSimulator({ port: 0, faults: { scan_seconds: 1, drift: 0, ...faults }, logLevel: 'silent' });
}

export interface ConfigOptions {
  capacity?: number;
  instances?: number;
  attempts?: number;
  backoffMs?: number;
  pollMinMs?: number;
  pollMaxMs?: number;
  timeoutMinutes?: number;
  /** Session login instead of API keys. */
  sessionAuth?: boolean;
  maxExportMb?: number;
  /** Base wait before an in-place retry of a safe Nessus call (scanners.yaml `http_retry_backoff_ms`). */
  httpRetryBackoffMs?: number;
}

export function writeScannersConfig(dir: string, simUrl: string, options: ConfigOptions = {}): string {
  const auth = options.sessionAuth
    ? '        username: admin\n        password: sim-admin-password\n'
    : '        access_key: sim-access-key\n        secret_key: sim-secret-key\n';
  const instances = Array.from({ length: options.instances ?? 1 }, (_, i) =>
    [
      `      - instance_id: sim${i + 1}`,
      `        name: Simulator ${i + 1}`,
      `        url: ${simUrl}`,
      auth.trimEnd(),
      `        max_concurrent_scans: ${options.capacity ?? 4}`,
      '        timeout_ms: 5000',
      `        http_retry_backoff_ms: ${options.httpRetryBackoffMs ?? 20}`,
    ].join('\n'),
  ).join('\n');
  const yaml = `default_pool: main
pools:
  - name: main
    type: nessus
    folder: nessus-mcp
    instances:
${instances}
scans:
  timeout_minutes: ${options.timeoutMinutes ?? 60}
  attempts: ${options.attempts ?? 4}
  backoff_ms: ${options.backoffMs ?? 100}
  poll_min_ms: ${options.pollMinMs ?? 150}
  poll_max_ms: ${options.pollMaxMs ?? 400}
${options.maxExportMb === undefined ? '' : `limits:\n  max_export_mb: ${options.maxExportMb}\n`}`;
  const path = join(dir, 'scanners.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Captures the worker's JSON log lines so tests can read (and grep) them. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface InProcessWorker {
  app: WorkerApp;
  logs: LogCapture;
  config: ScannersConfig;
}

export async function startInProcessWorker(options: {
  redisUrl: string;
  dataDir: string;
  configPath: string;
  concurrency?: number;
  /** The task files to use instead of `LocalTaskFiles(dataDir)` (a test standing in for a full disk). */
  files?: TaskFiles;
  /** The scan watcher's tick (0 = off); 200 ms here so tests do not wait on it. */
  watchIntervalMs?: number;
  /** 150 ms here, the suites' poll_min_ms, so their tests see the jobs' own polls (timeouts, pauses, 5xx bursts, requests in flight) as often as before. */
  watchedPollMs?: number;
}): Promise<InProcessWorker> {
  const logs = new LogCapture();
  const config = loadScannersConfig(options.configPath);
  const app = await startWorkerApp({
    redis: createRedisConnection(options.redisUrl, 'worker'),
    config,
    scannersConfigPath: options.configPath,
    files: options.files ?? new LocalTaskFiles(options.dataDir),
    credentialsKey: CREDENTIALS_KEY,
    ingest: ingestExport,
    logger: createLogger({ name: 'worker', level: 'debug', destination: logs }),
    settings: {
      concurrency: options.concurrency ?? 50,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      metricsHost: '127.0.0.1',
      watchIntervalMs: options.watchIntervalMs ?? 200,
      watchedPollMs: options.watchedPollMs ?? 150,
    },
    metricsPort: 0,
  });
  return { app, logs, config };
}

/** Stands in for the gateway: the task record (with its job payload), then the job (id = task id). */
export class GatewayStandIn {
  readonly redis: RedisClient;
  readonly tasks: TaskStore;
  readonly queue: ScanQueue;

  constructor(redisUrl: string, attempts = 4, backoffMs = 100) {
    this.redis = createRedisConnection(redisUrl, 'worker');
    this.tasks = new TaskStore(this.redis);
    // Connection errors are expected while a test restarts Redis; the queue reconnects by itself.
    this.queue = createScanQueue('main', this.redis, { attempts, backoffMs, completedDays: 7, deadLetterDays: 30 }, { logger: { warn: () => undefined } });
  }

  /** Creates the task; `enqueue: false` leaves it without a job (a gateway that died in between). */
  async submit(
    options: {
      name?: string;
      targets?: string[];
      scanType?: ScanType;
      credentials?: ScanCredentials;
      enqueue?: boolean;
      pinned?: string;
      createdAt?: Date;
    } = {},
  ): Promise<Task> {
    const now = options.createdAt ?? new Date();
    const taskId = newTaskId('main', options.pinned ?? 'any', now);
    const scanType = options.scanType ?? (options.credentials ? 'trusted' : 'untrusted');
    const task: Task = {
      task_id: taskId,
      trace_id: `trace-${taskId.slice(-8)}`,
      scan_type: scanType,
      name: options.name ?? `scan ${taskId.slice(-8)}`,
      description: null,
      targets: options.targets ?? ['10.0.0.1', '10.0.0.2'],
      target_count: (options.targets ?? ['10.0.0.1', '10.0.0.2']).length,
      scanner_pool: 'main',
      scanner_instance: options.pinned ?? 'sim1',
      instance_pinned: options.pinned !== undefined,
      schema_profile: 'brief',
      status: 'queued',
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      started_at: null,
      completed_at: null,
      error: null,
      nessus_scan_id: null,
      raw_scanner_status: null,
      progress: null,
      has_credentials: options.credentials !== undefined,
      idempotency_key_hash: null,
      cancel_requested: false,
      results_summary: null,
    };
    const payload: ScanJobData = {
      task_id: taskId,
      trace_id: task.trace_id,
      pool: 'main',
      instance_pinned: options.pinned ?? null,
      scan_type: scanType,
      name: task.name,
      description: null,
      targets: task.targets,
      credentials: options.credentials ? sealScanCredentials(CREDENTIALS_KEY, options.credentials, taskId) : null,
    };
    await this.tasks.create(task, { jobPayload: payload });
    if (options.enqueue !== false) await this.queue.add('scan', payload, { jobId: taskId });
    return task;
  }

  /** What the gateway's cancel does: flag (CAS from live statuses), broadcast, wake a delayed job. */
  async cancel(taskId: string): Promise<void> {
    await this.tasks.update(taskId, { cancel_requested: true }, ['queued', 'running']);
    await this.tasks.publishCancel(taskId);
    const job = await this.queue.getJob(taskId);
    if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
  }

  async status(taskId: string): Promise<Task> {
    return this.tasks.require(taskId);
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.redis.quit();
  }
}

export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false>,
  options: { timeoutMs?: number; what?: string; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

export async function waitForStatus(gateway: GatewayStandIn, taskId: string, statuses: Task['status'][], timeoutMs = 30_000): Promise<Task> {
  return waitFor(
    async () => {
      const task = await gateway.tasks.get(taskId);
      return task && statuses.includes(task.status) ? task : null;
    },
    { timeoutMs, what: `task ${taskId} to reach ${statuses.join('/')}` },
  );
}

/**
 * The task's job once BullMQ has it in one of `states`. The worker writes the task's final record inside
 * the processor, before BullMQ moves the job out of `active`, so a test that saw the record settle
 * waits here before it reads the job's state or return value.
 */
export async function waitForJob(gateway: GatewayStandIn, taskId: string, ...states: ('completed' | 'failed')[]): Promise<Job<ScanJobData, ScanJobResult>> {
  return waitFor(
    async () => {
      // The state first, then the job: a job read before its move would lack what the move wrote
      // (return value, failedReason); each move is one Lua script, so after it the job has it all.
      if (!(states as string[]).includes(await gateway.queue.getJobState(taskId))) return null;
      return gateway.queue.getJob(taskId);
    },
    { what: `job ${taskId} ${states.join('/')}` },
  );
}

/** The simulator's per-scan counters for a task (its scan name carries the task id). */
export function simCounts(sim: RunningSimulator, taskId: string): { created: number; launched: number; stopped: number } {
  const entry = Object.entries(sim.stats().by_name).find(([name]) => name.includes(taskId));
  return entry ? entry[1] : { created: 0, launched: 0, stopped: 0 };
}

/** Every key in the database, with its whole value, as text (for secret greps). */
export async function dumpRedis(url: string): Promise<string> {
  const redis = new Redis(url);
  const out: string[] = [];
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    out.push(key);
    if (type === 'string') out.push(String(await redis.get(key)));
    else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
    else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES')));
    else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
  }
  await redis.quit();
  return out.join('\n');
}

/** What a suite's `useWorkerSystem` starts: simulator, data directory, worker(s), gateway stand-in. */
export interface WorkerSystem {
  sim: RunningSimulator;
  dir: string;
  workers: InProcessWorker[];
  gateway: GatewayStandIn;
}

/**
 * For a suite: before its tests, empties its Redis database and starts the simulator (with
 * `faults`), a data directory, `workers` in-process workers (1) on one scanners.yaml written with
 * `config`, and a gateway stand-in, handing them to `onStart`; after its tests, stops them all.
 */
export function useWorkerSystem(
  options: { redisUrl: string; label: string; faults?: FaultPatch; config?: ConfigOptions; workers?: number },
  onStart: (system: WorkerSystem) => void,
): void {
  let system: WorkerSystem | null = null;
  beforeAll(async () => {
    await flushDb(options.redisUrl);
    const sim = await startSim(options.faults);
    const dir = tempDir(options.label);
    const configPath = writeScannersConfig(dir, sim.url, options.config);
    const workers: InProcessWorker[] = [];
    for (let i = 0; i < (options.workers ?? 1); i += 1) workers.push(await startInProcessWorker({ redisUrl: options.redisUrl, dataDir: dir, configPath }));
    system = { sim, dir, workers, gateway: new GatewayStandIn(options.redisUrl) };
    onStart(system);
  });
  afterAll(async () => {
    if (!system) return;
    await Promise.all(system.workers.map((worker) => worker.app.close()));
    await system.gateway.close();
    await system.sim.close();
    removeDir(system.dir);
  });
}
