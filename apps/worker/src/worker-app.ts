import { Worker } from 'bullmq';
import {
  AuditLog,
  DEFAULT_REDIS_NAMESPACE,
  TaskStore,
  createHousekeepingQueue,
  createScanQueue,
  loadScannersConfig,
  scanQueueName,
  type Logger,
  type RedisClient,
  type RedisNamespace,
  type ScanQueue,
  type ScanJobData,
  type ScanJobResult,
  type ScannersConfig,
} from '@nessus-mcp/core';
import type { TaskFiles } from '@nessus-mcp/results';
import { ScannerRegistry, type ApiCallEvent } from '@nessus-mcp/scanners';
import { startCancelListener, type CancelListener } from './cancel-listener.js';
import { startHousekeeping } from './housekeeping/housekeeping-worker.js';
import type { HousekeepingDeps } from './housekeeping/housekeeping-deps.js';
import { rebuildFindingIndex } from './housekeeping/rebuild-index.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { CANCEL_REASON } from './scan-pipeline/scan-interruptions.js';
import { createScanProcessor } from './scan-pipeline/scan-processor.js';
import { readScanJobState } from './scan-pipeline/scan-job-state.js';
import { ScanWatcher, type WakeOutcome } from './scan-pipeline/scan-watcher.js';
import type { IngestExport, ScanPipelineDeps } from './scan-pipeline/scan-step-context.js';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';
import { DEFAULT_WATCH_ADOPT_MS, DEFAULT_WATCHED_POLL_MS, DEFAULT_WATCH_INTERVAL_MS, type WorkerSettings } from './worker-settings.js';

export interface WorkerAppOptions {
  /** A `worker`-role connection (maxRetriesPerRequest null), to one server or a cluster; the app closes it on shutdown. */
  redis: RedisClient;
  config: ScannersConfig;
  /** Re-read on SIGHUP. */
  scannersConfigPath: string;
  /** Where each task's export and result store are kept. */
  files: TaskFiles;
  credentialsKey: Buffer;
  ingest: IngestExport;
  logger: Logger;
  settings: WorkerSettings;
  /** 0 picks a free port. */
  metricsPort: number;
  /** Queue and key prefixes (RuntimeConfig.redisNamespace); default DEFAULT_REDIS_NAMESPACE. */
  namespace?: RedisNamespace;
}

export interface WorkerApp {
  metricsPort: number;
  metrics: WorkerMetrics;
  /** Re-reads scanners.yaml; in-flight jobs keep going. Throws (and keeps the old config) when it is invalid. */
  reload(): void;
  /** Stops taking jobs, lets active steps finish (a polling job is simply delayed), closes everything. */
  close(): Promise<void>;
}

/** Everything one worker process runs: a consumer per scanner pool, housekeeping, cancel listener, metrics. */
export async function startWorkerApp(options: WorkerAppOptions): Promise<WorkerApp> {
  const { redis, logger, settings } = options;
  const namespace = options.namespace ?? DEFAULT_REDIS_NAMESPACE;
  const tasks = new TaskStore(redis, namespace.keyPrefix);
  let config = options.config;
  let registry: ScannerRegistry;
  const retiredRegistries: ScannerRegistry[] = [];
  const metrics = createWorkerMetrics(async () =>
    (await registry.load()).map((load) => ({ pool: load.poolName, instance: load.instanceId, active: load.active })),
  );
  const onApiCall = (event: ApiCallEvent): void => {
    metrics.nessusApiCalls.inc({ instance: event.instanceId, method: event.method, route: event.route, status: String(event.status) });
    metrics.nessusApiLatency.observe({ instance: event.instanceId, route: event.route }, event.durationMs / 1000);
  };
  const buildRegistry = (cfg: ScannersConfig): ScannerRegistry =>
    new ScannerRegistry(cfg, {
      redis,
      keyPrefix: namespace.keyPrefix,
      logger: logger.child({ component: 'scanners' }),
      onApiCall,
      // The first export status check after 250 ms rather than 1 s: a small scan's export is
      // usually ready by then, and the wait was half of the 2 s the scale benchmark allows
      // between a scan's end and its results. Larger exports catch up as the wait doubles.
      exportPoll: { initialMs: 250 },
    });
  registry = buildRegistry(config);

  const scanQueues = new Map<string, ScanQueue>();
  const scanQueue = (pool: string): ScanQueue => {
    let queue = scanQueues.get(pool);
    if (!queue) {
      const { attempts, backoff_ms } = config.scans;
      const { completed_days, dead_letter_days } = config.retention;
      queue = createScanQueue(
        pool,
        redis,
        { attempts, backoffMs: backoff_ms, completedDays: completed_days, deadLetterDays: dead_letter_days },
        { logger: logger.child({ scanner_pool: pool }), prefix: namespace.queuePrefix },
      );
      scanQueues.set(pool, queue);
    }
    return queue;
  };

  const watchIntervalMs = settings.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const wake = async (pool: string, taskId: string): Promise<WakeOutcome> => {
    const job = await scanQueue(pool).getJob(taskId);
    if (!job) return 'gone';
    const state = await job.getState();
    // Active: the job is in a step right now, possibly about to park again; look next tick.
    if (state === 'active') return 'busy';
    if (state !== 'delayed') return 'gone';
    // Another process may promote it first; either way it runs now.
    await job.promote().catch(() => undefined);
    return 'woken';
  };
  const watcher =
    watchIntervalMs > 0
      ? new ScanWatcher({
          registry: () => registry,
          wake,
          recordStatus: async (taskId, rawStatus) => {
            await tasks.update(taskId, { raw_scanner_status: rawStatus }, ['running']);
          },
          intervalMs: watchIntervalMs,
          fallbackPollMs: settings.watchedPollMs ?? DEFAULT_WATCHED_POLL_MS,
          rewakeAfterMs: config.scans.poll_max_ms,
          logger: logger.child({ component: 'scan-watcher' }),
        })
      : null;

  const pipelineDeps: ScanPipelineDeps = {
    tasks,
    registry: () => registry,
    config: () => config,
    files: options.files,
    credentialsKey: options.credentialsKey,
    ingest: options.ingest,
    metrics,
    logger,
    audit: new AuditLog(redis, namespace.keyPrefix, () => config.retention.audit_days),
    watcher,
  };
  const processor = createScanProcessor(pipelineDeps);
  const scanWorkers = new Map<string, Worker<ScanJobData, ScanJobResult, 'scan'>>();
  const startScanWorkers = (): void => {
    for (const pool of config.pools) {
      if (scanWorkers.has(pool.name)) continue;
      const worker = new Worker<ScanJobData, ScanJobResult, 'scan'>(scanQueueName(pool.name), processor, {
        connection: redis,
        prefix: namespace.queuePrefix,
        concurrency: settings.concurrency,
        lockDuration: settings.lockDurationMs,
        stalledInterval: settings.stalledIntervalMs,
        // A crash mid-step is what the pipeline is built to survive; only a job that keeps killing
        // its worker should end in the failed set this way.
        maxStalledCount: 10,
      });
      worker.on('error', (error) => logger.error({ scanner_pool: pool.name, err: error.message }, 'scan worker error'));
      scanWorkers.set(pool.name, worker);
    }
  };
  startScanWorkers();
  let adoptTimer: NodeJS.Timeout | null = null;
  if (watcher) {
    // Scans parked by an earlier run of this process (or by one that died) go back under watch,
    // so their end is noticed within a tick rather than at their fallback poll.
    const adopt = (): Promise<void> =>
      adoptParkedScans(
        config.pools.map((pool) => scanQueue(pool.name)),
        watcher,
      );
    await adopt().catch((error: unknown) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not list parked scan jobs for the scan watcher; they are watched again after their next poll',
      ),
    );
    watcher.start();
    // Again from time to time: the scans of a worker that died meanwhile are watched by the survivors.
    const adoptMs = settings.watchAdoptMs ?? DEFAULT_WATCH_ADOPT_MS;
    if (adoptMs > 0) {
      adoptTimer = setInterval(() => {
        adopt().catch((error: unknown) =>
          logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'could not list parked scan jobs; trying again later'),
        );
      }, adoptMs);
      adoptTimer.unref();
    }
  }

  const housekeepingQueue = createHousekeepingQueue(redis, { logger, prefix: namespace.queuePrefix });
  const housekeepingDeps: HousekeepingDeps = {
    tasks,
    registry: () => registry,
    config: () => config,
    files: options.files,
    scanQueue,
    logger: logger.child({ component: 'housekeeping' }),
    metrics,
  };
  const housekeepingWorker = await startHousekeeping({ queue: housekeepingQueue, connection: redis, deps: housekeepingDeps, metrics });
  // Not awaited: a large history must not hold up the start; a failure is logged and retried at the next start.
  rebuildFindingIndex(housekeepingDeps).catch((error: unknown) =>
    housekeepingDeps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not rebuild the cross-scan index'),
  );
  housekeepingWorker.on('error', (error) => logger.error({ err: error.message }, 'housekeeping worker error'));

  const cancelListener: CancelListener = await startCancelListener({
    subscriber: redis.duplicate(),
    channel: tasks.keys.cancelChannel,
    logger,
    onCancel: async (taskId) => {
      for (const worker of scanWorkers.values()) {
        if (worker.cancelJob(taskId, CANCEL_REASON)) {
          logger.info({ task_id: taskId }, 'cancel requested; aborting the running step');
          return;
        }
      }
      // Not held here: if it sleeps between polls, wake it so its next step sees the cancel flag.
      // Every worker process tries; promoting an already promoted job just fails.
      const task = await tasks.get(taskId);
      if (!task) return;
      const job = await scanQueue(task.scanner_pool).getJob(taskId);
      if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
    },
  });

  const metricsServer: MetricsServer = await startMetricsServer({
    port: options.metricsPort,
    host: settings.metricsHost,
    registry: metrics.registry,
    health: async () => {
      const stopped = [...scanWorkers.entries()].find(([, worker]) => !worker.isRunning());
      if (stopped) return { ok: false, reason: `scan worker for pool '${stopped[0]}' is not running` };
      try {
        await Promise.race([redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref())]);
        return { ok: true };
      } catch {
        return { ok: false, reason: 'Redis is not reachable' };
      }
    },
  });
  logger.info({ port: metricsServer.port, pools: config.pools.map((p) => p.name), concurrency: settings.concurrency }, 'worker started');

  return {
    metricsPort: metricsServer.port,
    metrics,
    reload() {
      const next = loadScannersConfig(options.scannersConfigPath);
      const nextRegistry = buildRegistry(next);
      // In-flight steps may still hold the old scanners: retire them, close them at shutdown.
      retiredRegistries.push(registry);
      registry = nextRegistry;
      config = next;
      startScanWorkers();
      logger.info({ pools: next.pools.map((p) => p.name) }, 'scanner configuration reloaded');
    },
    async close() {
      if (adoptTimer) clearInterval(adoptTimer);
      await watcher?.close();
      await Promise.allSettled([...scanWorkers.values()].map((worker) => worker.close()));
      await housekeepingWorker.close().catch(() => undefined);
      await cancelListener.close();
      await metricsServer.close();
      await Promise.allSettled([...scanQueues.values(), housekeepingQueue].map((queue) => queue.close()));
      await Promise.allSettled([registry, ...retiredRegistries].map((r) => r.close()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Puts every delayed scan job in the poll step under the watcher's eye. */
async function adoptParkedScans(queues: ScanQueue[], watcher: ScanWatcher): Promise<void> {
  const page = 500;
  for (const queue of queues) {
    for (let start = 0; ; start += page) {
      const jobs = await queue.getDelayed(start, start + page - 1);
      for (const job of jobs) {
        const state = readScanJobState(job.data);
        if (state.step === 'poll' && state.instance_id && state.nessus_scan_id) {
          watcher.adopt({
            pool: job.data.pool,
            instanceId: state.instance_id,
            scanId: state.nessus_scan_id,
            taskId: job.data.task_id,
            rawStatus: state.raw_status ?? '',
          });
        }
      }
      if (jobs.length < page) break;
    }
  }
}
