import type { ScanJobData, ScanJobResult } from '@nessus-mcp/core';
import type { InstanceLoad } from '@nessus-mcp/scanners';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Used only until a pool has finished a scan; the message says so when it applies. */
export const ASSUMED_SCAN_SECONDS = 600;

export interface WaitEstimate {
  queue_position: number | null;
  estimated_wait_minutes: number | null;
  /** Human-readable basis of the estimate, for the submit message. */
  basis: string;
}

/**
 * 1-based position of a job among its queue's waiting jobs; 0 when a worker already holds it
 * (it starts as soon as a scanner slot frees); null when it is no longer queued.
 * BullMQ adds jobs with LPUSH and workers take them from the right, so the distance from the
 * right end is the number of jobs that start first. LPOS is one round trip, with no job reads.
 */
export async function queuePosition(redis: Redis, queue: Queue<ScanJobData, ScanJobResult>, taskId: string): Promise<number> {
  const waitKey = queue.keys.wait;
  if (waitKey === undefined) return 0;
  const [index, length] = await Promise.all([redis.lpos(waitKey, taskId), redis.llen(waitKey)]);
  if (index === null) return 0;
  return length - index;
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
