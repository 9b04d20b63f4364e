import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort, startRedisCluster, startRedisServer, type RunningRedis, type RunningRedisCluster } from '@nessus-mcp/embedded-redis';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(REPO_ROOT, 'e2e', 'artifacts');

export interface SystemOptions {
  /** How long a simulated scan runs. */
  scanSeconds?: number;
  /** Simulator drift between repeated scans of a target (default 0: identical exports). */
  drift?: number;
  workers?: number;
  maxConcurrentScans?: number;
  attempts?: number;
  /** Extra scanners.yaml `scans` settings. */
  scans?: Record<string, number>;
  /** Extra settings of the scanner instance (e.g. `http_retry_backoff_ms`). */
  instance?: Record<string, number>;
  /**
   * Where the scanner config points instead of the simulator, given the simulator's URL: lets a
   * test put its own HTTP hop (a proxy that corrupts exports) between the worker and Nessus.
   */
  scannerUrl?: (simUrl: string) => string | Promise<string>;
  /** Extra environment of every process (e.g. STORAGE_URL). */
  env?: NodeJS.ProcessEnv;
  /** Extra environment of the gateway only (e.g. a DATA_DIR of its own, as on another host). */
  gatewayEnv?: NodeJS.ProcessEnv;
  /** How many gateways (default 1), each on its own port: `api` talks to the first, `apiOn(i, …)` to any. */
  gateways?: number;
  /** Extra environment of gateway `index`, over `gatewayEnv` (e.g. a DATA_DIR per gateway, as on separate hosts). */
  gatewayEnvOf?: (index: number) => NodeJS.ProcessEnv;
  /** Extra environment of worker `index`, also when it is restarted or added later (e.g. a DATA_DIR per worker). */
  workerEnvOf?: (index: number) => NodeJS.ProcessEnv;
  label: string;
  /** `cluster`: a 3-primary Redis Cluster (no persistence) instead of one server with AOF. */
  redis?: 'server' | 'cluster';
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: WriteStream;
  exited: Promise<void>;
}

/**
 * The system as `npm start` runs it — embedded Redis (AOF), the simulator, worker(s) and the
 * gateway as separate processes — but on free ports and a temporary DATA_DIR, with handles to
 * kill or restart any one of them. Every process's output is kept under e2e/artifacts/logs.
 */
export class SystemUnderTest {
  readonly token = `e2e-token-${Math.random().toString(36).slice(2)}-0123456789`;
  readonly dataDir: string;
  readonly logDir: string;
  redis!: RunningRedis;
  cluster: RunningRedisCluster | null = null;
  gatewayPorts: number[] = [];
  workerPorts: number[] = [];
  simPort = 0;
  private procs: Proc[] = [];
  private redisDir: string;
  private configPath: string;

  private constructor(private readonly options: SystemOptions) {
    this.dataDir = mkdtempSync(join(tmpdir(), `nmcp-e2e-${options.label}-`));
    this.redisDir = join(this.dataDir, 'redis');
    this.configPath = join(this.dataDir, 'scanners.yaml');
    this.logDir = join(ARTIFACTS, 'logs', options.label);
    mkdirSync(this.logDir, { recursive: true });
  }

  static async start(options: SystemOptions): Promise<SystemUnderTest> {
    const system = new SystemUnderTest(options);
    await system.boot();
    return system;
  }

  /** The first gateway's port (the only one unless `gateways` says more). */
  get gatewayPort(): number {
    return this.gatewayPorts[0] ?? 0;
  }

  get gatewayUrl(): string {
    return this.gatewayUrlOf(0);
  }

  gatewayUrlOf(index: number): string {
    const port = this.gatewayPorts[index];
    if (port === undefined) throw new Error(`no gateway-${index} (${this.gatewayPorts.length} started)`);
    return `http://127.0.0.1:${port}`;
  }

  get simUrl(): string {
    return `http://127.0.0.1:${this.simPort}`;
  }

  private writeConfig(scannerUrl: string): void {
    const scans = { poll_min_ms: 200, poll_max_ms: 1000, backoff_ms: 300, attempts: this.options.attempts ?? 5, ...this.options.scans };
    const lines = [
      'default_pool: nessus',
      'pools:',
      '  - name: nessus',
      '    instances:',
      '      - instance_id: scanner1',
      '        name: e2e simulator',
      `        url: ${scannerUrl}`,
      '        access_key: sim-access-key',
      '        secret_key: sim-secret-key',
      `        max_concurrent_scans: ${this.options.maxConcurrentScans ?? 8}`,
      '        timeout_ms: 10000',
      ...Object.entries(this.options.instance ?? {}).map(([key, value]) => `        ${key}: ${value}`),
      'scans:',
      ...Object.entries(scans).map(([key, value]) => `  ${key}: ${value}`),
    ];
    writeFileSync(this.configPath, `${lines.join('\n')}\n`);
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      REDIS_URL: this.cluster?.url ?? this.redis.url,
      DATA_DIR: this.dataDir,
      SCANNERS_CONFIG: this.configPath,
      AUTH_TOKEN: this.token,
      NESSUS_SIM_PORT: String(this.simPort),
      GATEWAY_PORT: String(this.gatewayPort),
      LOG_LEVEL: 'debug',
      // A SIGKILLed worker's job is recovered once its lock expires: keep that short here
      // (production default 30 s) so the kill tests finish in seconds.
      WORKER_LOCK_DURATION_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      ...this.options.env,
      ...extra,
    };
  }

  private spawnNode(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): Proc {
    const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    const proc = { name, child, log, exited };
    this.procs.push(proc);
    return proc;
  }

  private async waitHealthy(url: string, proc: Proc, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}; see ${this.logDir}/${proc.name}.log`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    throw new Error(`${proc.name} did not become healthy at ${url}`);
  }

  private async boot(): Promise<void> {
    if (this.options.redis === 'cluster') this.cluster = await startRedisCluster();
    else this.redis = await startRedisServer({ dir: this.redisDir, appendonly: true });
    this.simPort = await findFreePort();
    for (let i = 0; i < (this.options.gateways ?? 1); i += 1) this.gatewayPorts.push(await findFreePort());
    this.writeConfig(this.options.scannerUrl ? await this.options.scannerUrl(this.simUrl) : this.simUrl);
    const sim = this.spawnNode(
      'simulator',
      'packages/nessus-sim/dist/bin.js',
      ['--port', String(this.simPort), '--scan-seconds', String(this.options.scanSeconds ?? 2), '--drift', String(this.options.drift ?? 0)],
      this.env(),
    );
    await this.waitHealthy(`${this.simUrl}/server/status`, sim);
    for (let i = 0; i < (this.options.workers ?? 1); i += 1) await this.startWorker();
    for (let i = 0; i < this.gatewayPorts.length; i += 1) {
      // The first keeps the name (and log file) `gateway` it always had.
      const env = this.env({ ...this.options.gatewayEnv, ...this.options.gatewayEnvOf?.(i), GATEWAY_PORT: String(this.gatewayPorts[i]) });
      const gateway = this.spawnNode(i === 0 ? 'gateway' : `gateway-${i}`, 'apps/gateway/dist/main.js', [], env);
      await this.waitHealthy(`${this.gatewayUrlOf(i)}/health`, gateway);
    }
  }

  private workerEnv(index: number, port: number): NodeJS.ProcessEnv {
    return this.env({ ...this.options.workerEnvOf?.(index), WORKER_METRICS_PORT: String(port) });
  }

  async startWorker(): Promise<number> {
    const port = await findFreePort();
    const index = this.workerPorts.length;
    this.workerPorts.push(port);
    const proc = this.spawnNode(`worker-${index}`, 'apps/worker/dist/main.js', [], this.workerEnv(index, port));
    await this.waitHealthy(`http://127.0.0.1:${port}/health`, proc);
    return index;
  }

  worker(index = 0): ChildProcess {
    const proc = this.procs.find((p) => p.name === `worker-${index}` && p.child.exitCode === null && p.child.signalCode === null);
    if (!proc) throw new Error(`no running worker-${index}`);
    return proc.child;
  }

  async killWorker(index = 0, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.procs.find((p) => p.name === `worker-${index}` && p.child.exitCode === null && p.child.signalCode === null);
    if (!proc) throw new Error(`no running worker-${index}`);
    proc.child.kill(signal);
    await proc.exited;
  }

  /** Restarts a killed worker under the same name and metrics port. */
  async restartWorker(index = 0): Promise<void> {
    const port = this.workerPorts[index]!;
    const proc = this.spawnNode(`worker-${index}`, 'apps/worker/dist/main.js', [], this.workerEnv(index, port));
    await this.waitHealthy(`http://127.0.0.1:${port}/health`, proc);
  }

  /** Stops Redis (SIGTERM flushes the AOF) and starts it again on the same port and files. */
  async restartRedis(downMs = 500): Promise<void> {
    const port = this.redis.port;
    await this.redis.stop();
    await sleep(downMs);
    this.redis = await startRedisServer({ dir: this.redisDir, appendonly: true, port });
  }

  async api(path: string, init: RequestInit = {}): Promise<Response> {
    return this.apiOn(0, path, init);
  }

  /** A REST call to gateway `index` with the operator's token. */
  async apiOn(index: number, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.token}`);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${this.gatewayUrlOf(index)}${path}`, { ...init, headers });
  }

  async sim(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.simUrl}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    const response = await this.sim('/_sim/faults', { method: 'PUT', body: JSON.stringify(faults) });
    if (!response.ok) throw new Error(`PUT /_sim/faults → ${response.status}: ${await response.text()}`);
  }

  async simStats(): Promise<{
    scans_created: number;
    launches: number;
    stops: number;
    deletes: number;
    by_name: Record<string, { created: number; launched: number; stopped: number }>;
  }> {
    return (await (await this.sim('/_sim/stats')).json()) as never;
  }

  async mcp(): Promise<Client> {
    const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${this.gatewayUrl}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${this.token}` } },
    });
    await client.connect(transport);
    return client;
  }

  logs(): string {
    return this.procs.map((p) => this.logOf(p.name)).join('\n');
  }

  /** The output of one process so far (`gateway`, `worker-1`, …; a restarted one's runs in sequence). */
  logOf(name: string): string {
    try {
      return readFileSync(join(this.logDir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    for (const proc of [...this.procs].reverse()) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10000);
        await proc.exited;
        clearTimeout(timer);
      }
      proc.log.end();
    }
    await this.redis?.stop();
    await this.cluster?.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Parses a tool result's JSON text block (or structuredContent). */
export function toolJson<T>(result: unknown): T {
  const r = result as { structuredContent?: unknown; content?: Array<{ type: string; text?: string }> };
  if (r.structuredContent) return r.structuredContent as T;
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (text === undefined) throw new Error(`tool result has no text: ${JSON.stringify(result)}`);
  return JSON.parse(text) as T;
}

export function toolText(result: unknown): string {
  const r = result as { content?: Array<{ type: string; text?: string }> };
  return (
    r.content
      ?.filter((c) => c.type === 'text')
      .map((c) => c.text ?? '')
      .join('') ?? ''
  );
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking the test's event loop (the system's processes keep
 * being served meanwhile) and returns its exit code and output. Killed after `timeoutMs`.
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolveExit, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, exitSignal) => resolveExit([exitCode, exitSignal]));
    });
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
