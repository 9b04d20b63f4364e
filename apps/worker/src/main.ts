import {
  AppError,
  createLogger,
  checkRedisTopology,
  createRedisConnection,
  exitWithSupervisor,
  loadCredentialsKey,
  loadRuntimeConfig,
  loadScannersConfig,
  requireRedisUrl,
  waitForRedis,
  type Logger,
} from '@nessus-mcp/core';
import { ingestExport, openTaskFiles } from '@nessus-mcp/results';
import { startWorkerApp, type WorkerApp } from './worker-app.js';
import { loadWorkerSettings } from './worker-settings.js';

/** Past this, shutdown stops waiting for active steps: their jobs' locks expire and another worker resumes them. */
const SHUTDOWN_GRACE_MS = 25_000;

function exitWithConfigError(error: unknown): never {
  const message = error instanceof AppError ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`nessus-mcp worker: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let logger: Logger;
  let app: WorkerApp;
  try {
    const runtime = loadRuntimeConfig();
    const redisUrl = requireRedisUrl(runtime, 'worker');
    const config = loadScannersConfig(runtime.scannersConfigPath);
    const credentialsKey = loadCredentialsKey(process.env, runtime.dataDir);
    const settings = loadWorkerSettings();
    logger = createLogger({ name: 'worker', level: runtime.logLevel });
    // A STORAGE_URL whose bucket cannot be used stops the worker here, before it takes a job.
    const taskFiles = await openTaskFiles(runtime);
    logger.info({ storage: taskFiles.description }, 'task files');
    const redis = createRedisConnection(redisUrl, 'worker');
    redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
    await waitForRedis(redis, 15_000);
    await checkRedisTopology(redis, redisUrl);
    app = await startWorkerApp({
      redis,
      config,
      scannersConfigPath: runtime.scannersConfigPath,
      files: taskFiles.files,
      credentialsKey,
      ingest: ingestExport,
      logger,
      settings,
      metricsPort: runtime.workerMetricsPort,
      namespace: runtime.redisNamespace,
    });
  } catch (error) {
    exitWithConfigError(error);
  }

  process.on('SIGHUP', () => {
    try {
      app.reload();
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'scanner configuration not reloaded; keeping the previous one');
    }
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new jobs; active steps finish, polling jobs stay delayed');
    setTimeout(() => {
      logger.warn('active steps did not finish in time; exiting, their jobs resume elsewhere once their locks expire');
      logger.flush();
      process.exit(0);
    }, SHUTDOWN_GRACE_MS).unref();
    app
      .close()
      .then(() => {
        logger.info('worker stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'error during shutdown');
        logger.flush();
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  exitWithSupervisor(() => stop('supervisor gone'));
}

void main();
