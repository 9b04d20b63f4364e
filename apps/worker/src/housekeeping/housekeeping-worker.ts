import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import {
  BULL_PREFIX,
  HOUSEKEEPING_QUEUE,
  HOUSEKEEPING_QUEUE_DEFINITION,
  checkedProcessor,
  type HousekeepingJobData,
  type HousekeepingJobName,
  type HousekeepingQueue,
} from '@nessus-mcp/core';
import type { WorkerMetrics } from '../worker-metrics.js';
import { cleanNessusScans } from './clean-nessus-scans.js';
import { expireTasks } from './expire-tasks.js';
import type { HousekeepingDeps } from './housekeeping-deps.js';
import { reconcileQueued } from './reconcile-queued.js';
import { stopStuckScans } from './stop-stuck-scans.js';

const HANDLERS: Record<HousekeepingJobName, (deps: HousekeepingDeps) => Promise<Record<string, number>>> = {
  'expire-tasks': expireTasks,
  'stop-stuck-scans': stopStuckScans,
  'reconcile-queued': reconcileQueued,
  'clean-nessus': cleanNessusScans,
};

/** How often each job runs. Expiry and Nessus clean-up are daily-scale concerns; a lost job is not. */
export const HOUSEKEEPING_EVERY_MS: Record<HousekeepingJobName, number> = {
  'expire-tasks': 60 * 60_000,
  'stop-stuck-scans': 5 * 60_000,
  'reconcile-queued': 60_000,
  'clean-nessus': 60 * 60_000,
};

/**
 * Registers the schedules (`upsertJobScheduler` is idempotent, so every worker process can do it
 * at start; BullMQ v6 silently ignores `repeat` on `add`) and consumes the housekeeping queue.
 */
export async function startHousekeeping(options: {
  queue: HousekeepingQueue;
  connection: ConnectionOptions;
  deps: HousekeepingDeps;
  metrics: WorkerMetrics;
}): Promise<Worker<HousekeepingJobData, unknown, HousekeepingJobName>> {
  const { queue, deps, metrics } = options;
  for (const [name, every] of Object.entries(HOUSEKEEPING_EVERY_MS) as Array<[HousekeepingJobName, number]>) {
    await queue.upsertJobScheduler(name, { every }, { name, data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 200 } } });
  }
  const worker = new Worker<HousekeepingJobData, unknown, HousekeepingJobName>(
    HOUSEKEEPING_QUEUE,
    // The registry check refuses a job name without a handler before it gets here.
    checkedProcessor(HOUSEKEEPING_QUEUE_DEFINITION, async (job: Job<HousekeepingJobData, unknown, HousekeepingJobName>) => {
      const handler = HANDLERS[job.name];
      try {
        const result = await handler(deps);
        metrics.housekeepingRuns.inc({ job: job.name, result: 'ok' });
        return result;
      } catch (error) {
        metrics.housekeepingRuns.inc({ job: job.name, result: 'error' });
        deps.logger.error({ job: job.name, err: error instanceof Error ? error.message : String(error) }, 'housekeeping job failed');
        throw error;
      }
    }),
    // The queue's own prefix: the worker must read the keys the schedules were written under.
    { connection: options.connection, prefix: queue.opts.prefix ?? BULL_PREFIX, concurrency: 1 },
  );
  return worker;
}
