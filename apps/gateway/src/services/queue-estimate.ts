import type { RedisClient, ScanJobData, ScanJobResult, Task, TaskStore } from '@nessus-mcp/core';
import type { InstanceLoad } from '@nessus-mcp/scanners';
import type { Queue } from 'bullmq';
import type { ServiceContext } from './service-context.js';

/** Used only until a pool has finished a scan; the message says so when it applies. */
export const ASSUMED_SCAN_SECONDS = 600;

export interface WaitEstimate {
  queue_position: number | null;
  estimated_wait_minutes: number | null;
  /** Human-readable basis of the estimate, for the submit message. */
  basis: string;
}

/** Delayed jobs looked at for the position; past this many the position is a lower bound. */
const MAX_DELAYED_SCANNED = 5000;

/**
 * 1-based position of a queued task in its pool's line; 0 when a worker holds it right now (it
 * is being placed on a scanner); null is the caller's for tasks no longer queued.
 *
 * The line has two parts. Scans already tried that found no free scanner slot wait in BullMQ's
 * delayed set (beside running scans between two polls, told apart by their task's status);
 * they retry first, and among them the oldest task is counted first. New jobs wait in the
 * list behind them: BullMQ adds with LPUSH and takes from the right, so the distance from the
 * right end is the number of new jobs that start first.
 */
export async function queuePosition(redis: RedisClient, tasks: TaskStore, queue: Queue<ScanJobData, ScanJobResult>, taskId: string): Promise<number> {
  const { wait: waitKey, delayed: delayedKey } = queue.keys;
  if (waitKey === undefined || delayedKey === undefined) return 0;
  const [index, length, delayedIds] = await Promise.all([
    redis.lpos(waitKey, taskId),
    redis.llen(waitKey),
    redis.zrange(delayedKey, 0, MAX_DELAYED_SCANNED - 1),
  ]);
  const states = await tasks.statusesOf(delayedIds);
  const parked = delayedIds.filter((id) => states.get(id)?.status === 'queued');
  if (index !== null) return parked.length + (length - index);
  const mine = states.get(taskId);
  if (!mine || mine.status !== 'queued') return 0;
  const before = (id: string): boolean => {
    const other = states.get(id)!.created_at;
    return other < mine.created_at || (other === mine.created_at && id < taskId);
  };
  return 1 + parked.filter((id) => id !== taskId && before(id)).length;
}

/** The position a task submitted now would take: behind every queued job of the pool. */
export async function positionForNewTask(redis: RedisClient, tasks: TaskStore, queue: Queue<ScanJobData, ScanJobResult>): Promise<number> {
  const { wait: waitKey, delayed: delayedKey } = queue.keys;
  if (waitKey === undefined || delayedKey === undefined) return 1;
  const [length, delayedIds] = await Promise.all([redis.llen(waitKey), redis.zrange(delayedKey, 0, MAX_DELAYED_SCANNED - 1)]);
  const states = await tasks.statusesOf(delayedIds);
  return length + delayedIds.filter((id) => states.get(id)?.status === 'queued').length + 1;
}

/**
 * Wait before a scan at `position` starts: free slots start at once, then each full wave of
 * `capacity` scans takes one average recent duration. Capacity and active counts are the shared
 * figures from Redis, so every gateway process gives the same answer.
 */
export function estimateWait(position: number, load: readonly InstanceLoad[], recentDurations: readonly number[]): WaitEstimate {
  const enabled = load.filter((instance) => instance.enabled);
  const capacity = enabled.reduce((sum, instance) => sum + instance.capacity, 0);
  if (capacity === 0) return { queue_position: position, estimated_wait_minutes: null, basis: 'no enabled scanner instance in this pool' };
  const active = enabled.reduce((sum, instance) => sum + instance.active, 0);
  const average = recentDurations.length > 0 ? recentDurations.reduce((sum, value) => sum + value, 0) / recentDurations.length : ASSUMED_SCAN_SECONDS;
  const basis =
    recentDurations.length > 0
      ? `average of the last ${recentDurations.length} scans (${Math.round(average / 60)} min) over ${capacity} slot(s), ${active} busy`
      : `no finished scan in this pool yet, assuming ${ASSUMED_SCAN_SECONDS / 60} min per scan over ${capacity} slot(s), ${active} busy`;
  const free = Math.max(0, capacity - active);
  const ahead = Math.max(position, 1);
  if (ahead <= free) return { queue_position: position, estimated_wait_minutes: 0, basis };
  const waves = Math.ceil((ahead - free) / capacity);
  return { queue_position: position, estimated_wait_minutes: Math.round((waves * average) / 6) / 10, basis };
}

/** Queue position and wait estimate of a queued task (nulls for any other state). */
export async function describeQueued(context: ServiceContext, task: Task): Promise<WaitEstimate> {
  if (task.status !== 'queued') return { queue_position: null, estimated_wait_minutes: null, basis: '' };
  const { fleet } = context.setup();
  const queue = context.queues.forPool(task.scanner_pool);
  const [position, load, durations] = await Promise.all([
    queuePosition(context.redis, context.tasks, queue, task.task_id),
    fleet.load(task.scanner_pool).catch(() => []),
    context.tasks.recentDurations(task.scanner_pool),
  ]);
  const relevant = task.instance_pinned ? load.filter((instance) => instance.instanceId === task.scanner_instance) : load;
  return estimateWait(position, relevant, durations);
}
