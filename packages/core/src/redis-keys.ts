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
  /** ZSET of completed task ids still in the history (fingerprint retained), scored by completion time (ms). */
  historyByCompleted: string;
  /** HASH `record` → the HistoryRecord JSON of a completed task (outlives the task record). */
  history(taskId: string): string;
  /** ZSET of task ids naming a CVE, plugin id or host, scored by completion time (ms). */
  posting(kind: 'cve' | 'plugin' | 'host', value: string): string;
  /** ZSET of every indexed host name → how many indexed tasks name it (CIDR searches enumerate it). */
  indexedHosts: string;
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
    historyByCompleted: `${prefix}:history:by-completed`,
    history: (taskId) => `${prefix}:history:${taskId}`,
    posting: (kind, value) => `${prefix}:idx:${kind}:${value}`,
    indexedHosts: `${prefix}:idx:hosts`,
    audit: `${prefix}:audit`,
  };
}
