import type { PoolFilterInput } from '../schemas/tool-inputs.js';
import type { QueueStatusOutput } from '../schemas/tool-outputs.js';
import { assertPool } from './scanner-pools.js';
import type { ServiceContext } from './service-context.js';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
type Counts = Record<(typeof STATES)[number], number>;

/** Counts and ages only: job payloads never leave this function (a payload holds encrypted credentials and job internals no caller needs). */
export async function getQueueStatus(context: ServiceContext, input: PoolFilterInput): Promise<QueueStatusOutput> {
  assertPool(context, input.scanner_pool);
  const queues = context.queues.scanQueues().filter(({ pool }) => input.scanner_pool === undefined || pool === input.scanner_pool);
  const now = Date.now();
  const pools = await Promise.all(
    queues.map(async ({ pool, queue }) => {
      const [raw, oldest, paused] = await Promise.all([queue.getJobCounts(...STATES), queue.getJobs(['waiting'], 0, 0, true), queue.isPaused()]);
      const counts = Object.fromEntries(STATES.map((state) => [state, raw[state] ?? 0])) as Counts;
      const first = oldest[0];
      return {
        scanner_pool: pool,
        queue: queue.name,
        counts,
        paused,
        oldest_waiting_age_seconds: first ? Math.max(0, Math.round((now - first.timestamp) / 1000)) : null,
      };
    }),
  );
  const totals = Object.fromEntries(STATES.map((state) => [state, pools.reduce((sum, p) => sum + p.counts[state], 0)])) as Counts;
  const ages = pools.map((p) => p.oldest_waiting_age_seconds).filter((age): age is number => age !== null);
  return {
    totals,
    pools,
    dead_letter_count: totals.failed,
    oldest_waiting_age_seconds: ages.length > 0 ? Math.max(...ages) : null,
  };
}
