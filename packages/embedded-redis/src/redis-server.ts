import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServerOptions {
  /** TCP port; 0 or undefined picks a free one. */
  port?: number;
  host?: string;
  /** Working directory for AOF/RDB files and the pid file. Required when `appendonly` is on. */
  dir?: string;
  /** AOF persistence (on for `npm start`, off for test runs). */
  appendonly?: boolean;
  /** Explicit binary path; otherwise REDIS_SERVER_BIN, then PATH and the Debian location. */
  binary?: string;
  /**
   * Start the server in its own process group so a terminal Ctrl-C reaches only the supervisor,
   * which can then stop Redis last.
   */
  detached?: boolean;
  /** Where Redis writes its own log; defaults to no log file (stdout discarded). */
  logFile?: string;
  startTimeoutMs?: number;
  /** More `redis-server` arguments (cluster mode, a password), appended after the defaults. */
  extraArgs?: readonly string[];
}

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** SIGTERM (Redis flushes the AOF), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

export function findRedisServerBinary(): string | null {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH: fall through to the Debian locations
  }
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Sends PING over a raw socket: true on +PONG, false on refusal or -LOADING while the AOF replays.
 * `passwordSet`: a server with `requirepass` answers -NOAUTH, which also means it is up.
 */
export async function pingRedis(host: string, port: number, timeoutMs = 1000, passwordSet = false): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      const reply = chunk.toString('utf8');
      done(reply.startsWith('+PONG') || (passwordSet && reply.startsWith('-NOAUTH')));
    });
  });
}

function buildArgs(options: Required<Pick<RedisServerOptions, 'host' | 'appendonly'>> & RedisServerOptions, port: number): string[] {
  const args = [
    '--port',
    String(port),
    '--bind',
    options.host,
    '--protected-mode',
    'yes',
    // BullMQ requires noeviction: an evicted job key is a silently lost scan.
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--daemonize',
    'no',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
  ];
  if (options.appendonly) args.push('--appendfsync', 'everysec');
  if (options.dir) args.push('--dir', options.dir, '--pidfile', join(options.dir, 'redis.pid'));
  if (options.logFile) args.push('--logfile', options.logFile);
  if (options.extraArgs) args.push(...options.extraArgs);
  return args;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningRedis> {
  const binary = options.binary ?? findRedisServerBinary();
  if (!binary) {
    throw new Error('redis-server was not found. Install it with `apt-get install -y redis-server`, or set REDIS_URL to an existing Redis.');
  }
  if (!existsSync(binary)) {
    throw new Error(`redis-server binary not found at ${binary}. Install it with \`apt-get install -y redis-server\`.`);
  }
  const host = options.host ?? '127.0.0.1';
  const appendonly = options.appendonly ?? false;
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  if (appendonly && !options.dir) throw new Error('startRedisServer: `dir` is required when appendonly is on');

  const port = options.port && options.port > 0 ? options.port : await findFreePort(host);
  const child = spawn(binary, buildArgs({ ...options, host, appendonly }, port), {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      stderr += String(error);
      exited = { code: null, signal: null };
      resolve();
    });
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 15000);
  for (;;) {
    if (exited) {
      throw new Error(`redis-server exited during start-up (code ${String((exited as { code: number | null }).code)}): ${stderr.trim() || 'no output'}`);
    }
    if (await pingRedis(host, port, 500, options.extraArgs?.includes('--requirepass') ?? false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on ${host}:${port} within the start timeout`);
    }
    await sleep(50);
  }

  return {
    url: `redis://${host}:${port}`,
    port,
    host,
    pid: child.pid ?? -1,
    process: child,
    async stop(graceMs = 10000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/**
 * A Redis left running by a supervisor that was SIGKILLed still holds the data dir. Stop it
 * (SIGTERM lets it flush its AOF) before starting a new one on the same files.
 */
export async function stopStaleRedis(dir: string): Promise<number | null> {
  const pidFile = join(dir, 'redis.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('redis-server')) return null;
    process.kill(pid, 'SIGTERM');
  } catch {
    return null;
  }
  for (let i = 0; i < 100; i += 1) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  return pid;
}
