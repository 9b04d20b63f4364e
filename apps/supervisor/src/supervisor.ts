import { join } from 'node:path';
import { startRedisServer, stopStaleRedis, type RunningRedis } from '@nessus-mcp/embedded-redis';
import {
  AppError,
  createLogger,
  loadAuthTokens,
  loadCredentialsKey,
  loadRuntimeConfig,
  loadScannersConfig,
  type Logger,
  type RuntimeConfig,
} from '@nessus-mcp/core';
import { ManagedProcess, describeExit, type ExitInfo } from './process-group.js';
import { configUsesSimulator } from './simulator-target.js';
import { assertPortsFree } from './port-check.js';
import { waitForHttp } from './wait-for-http.js';

export interface SupervisorOptions {
  /** Repository root: where apps/ and packages/ live. */
  root: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Grace period for each child on shutdown before SIGKILL. */
  stopGraceMs?: number;
}

export interface StartedSystem {
  gatewayUrl: string;
  redisUrl: string;
  embeddedRedis: boolean;
  simulatorUrl: string | null;
  token: string;
  /** Resolves with the exit code once everything has stopped. */
  done: Promise<number>;
  stop(reason: string): Promise<number>;
  reload(): void;
}

/**
 * Runs the whole system in the foreground: embedded Redis (when REDIS_URL is unset), the Nessus
 * simulator (when the scanner config points at it), the worker and the gateway. Stops them in
 * reverse order, Redis last, so the worker can record where each scan stands before Redis goes.
 */
export async function startSystem(options: SupervisorOptions): Promise<StartedSystem> {
  const env = options.env ?? process.env;
  const log = options.logger ?? createLogger({ name: 'supervisor', destination: 'stderr' });
  const runtime: RuntimeConfig = loadRuntimeConfig(env, options.root);
  // Validate up front: a broken scanners.yaml stops start-up here, naming the key path.
  const scanners = loadScannersConfig(runtime.scannersConfigPath, env);
  const tokens = loadAuthTokens(env, runtime.dataDir);
  loadCredentialsKey(env, runtime.dataDir);

  // A port taken by another program would otherwise look like our own process answering health
  // checks (an old simulator on 8834, say): refuse to start and name the variable to change.
  const usesSimulator = configUsesSimulator(scanners, runtime.simPort);
  await assertPortsFree([
    { name: 'GATEWAY_PORT', host: runtime.gatewayHost, port: runtime.gatewayPort },
    { name: 'WORKER_METRICS_PORT', host: env.WORKER_METRICS_HOST || '127.0.0.1', port: runtime.workerMetricsPort },
    ...(usesSimulator ? [{ name: 'NESSUS_SIM_PORT', host: '127.0.0.1', port: runtime.simPort }] : []),
  ]);

  let redis: RunningRedis | null = null;
  let redisUrl = runtime.redisUrl;
  if (!redisUrl) {
    const dir = join(runtime.dataDir, 'redis');
    const stale = await stopStaleRedis(dir);
    if (stale) log.warn({ pid: stale }, 'stopped a Redis left running by an earlier supervisor');
    redis = await startRedisServer({ dir, appendonly: true, detached: true, logFile: join(dir, 'redis.log') });
    redisUrl = redis.url;
    log.info({ redis: redisUrl, dir }, 'embedded Redis started (AOF on)');
  }

  const childEnv: NodeJS.ProcessEnv = { ...env, REDIS_URL: redisUrl, DATA_DIR: runtime.dataDir, SCANNERS_CONFIG: runtime.scannersConfigPath };
  const node = process.execPath;
  const children: ManagedProcess[] = [];
  let settle: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
  });
  let stopping: Promise<number> | null = null;

  const stop = (reason: string, code = 0): Promise<number> => {
    if (stopping) return stopping;
    stopping = (async () => {
      log.info({ reason }, 'stopping');
      for (const child of [...children].reverse()) {
        const info = await child.stop(options.stopGraceMs ?? 20000);
        if (info) log.info({ process: child.spec.name, how: describeExit(info) }, 'stopped');
      }
      if (redis) {
        await redis.stop();
        log.info('embedded Redis stopped');
      }
      settle(code);
      return code;
    })();
    return stopping;
  };

  const onUnexpectedExit = (info: ExitInfo, tail: string[]): void => {
    const last = tail.length ? `; its last output:\n  ${tail.join('\n  ')}` : '';
    log.error({ process: info.name, code: info.code, signal: info.signal }, `${info.name} ${describeExit(info)}${last}`);
    void stop(`${info.name} ${describeExit(info)}`, 1);
  };

  const launch = async (name: string, script: string, healthUrl: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> => {
    const child = new ManagedProcess({ name, command: node, args: [join(options.root, script)], env: { ...childEnv, ...extraEnv }, cwd: options.root });
    children.push(child);
    child.start(onUnexpectedExit);
    await waitForHttp(healthUrl, () => !child.isStopping && stopping === null);
    log.info({ process: name, pid: child.pid }, `${name} ready`);
  };

  let simulatorUrl: string | null = null;
  try {
    if (usesSimulator) {
      simulatorUrl = `http://127.0.0.1:${runtime.simPort}`;
      await launch('simulator', 'packages/nessus-sim/dist/bin.js', `${simulatorUrl}/server/status`, { NESSUS_SIM_PORT: String(runtime.simPort) });
    }
    await launch('worker', 'apps/worker/dist/main.js', `http://127.0.0.1:${runtime.workerMetricsPort}/health`);
    await launch('gateway', 'apps/gateway/dist/main.js', `http://${hostForUrl(runtime.gatewayHost)}:${runtime.gatewayPort}/health`);
  } catch (error) {
    await stop('start-up failed', 1);
    throw error instanceof AppError ? error : new AppError('internal', `start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  return {
    gatewayUrl: `http://${hostForUrl(runtime.gatewayHost)}:${runtime.gatewayPort}`,
    redisUrl,
    embeddedRedis: redis !== null,
    simulatorUrl,
    token: tokens[0]!,
    done,
    stop: (reason) => stop(reason),
    reload: () => {
      for (const child of children) if (child.spec.name !== 'simulator') child.signal('SIGHUP');
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
