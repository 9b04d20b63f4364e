/**
 * Every Redis key and channel this system uses outside BullMQ's own, in one place, under one
 * prefix, so operators can find them and tests can isolate themselves.
 */
export interface RedisKeys {
  prefix: string;
  task(taskId: string): string;
  /** ZSET of task ids scored by creation time (ms). */
  tasksByCreated: string;
  idempotency(keyHash: string): string;
  /** LIST of recent scan durations (seconds), newest first, for wait estimates. */
  recentDurations(pool: string): string;
  /** Pub/sub channel carrying task ids whose cancel was requested. */
  cancelChannel: string;
  /** STREAM of audit records (who submitted, cancelled, administered or was refused what). */
  audit: string;
}

export function redisKeys(prefix = 'nmcp'): RedisKeys {
  return {
    prefix,
    task: (taskId) => `${prefix}:task:${taskId}`,
    tasksByCreated: `${prefix}:tasks:by-created`,
    idempotency: (keyHash) => `${prefix}:idem:${keyHash}`,
    recentDurations: (pool) => `${prefix}:durations:${pool}`,
    cancelChannel: `${prefix}:cancel`,
    audit: `${prefix}:audit`,
  };
}
