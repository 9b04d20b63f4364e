/**
 * Every Redis key and channel this system uses outside BullMQ's own, in one place, under one
 * prefix, so operators can find them and tests can isolate themselves.
 *
 * On a Redis Cluster the prefix carries a hash tag (`{nessus-mcp}`): Redis hashes only the text
 * between the first `{` and the next `}`, so every key below lands in one slot and the
 * multi-key scripts and MULTI blocks (task creation with its idempotency key and index, the
 * scanner slot reservation across a pool's instances) stay legal there.
 */
/** Where this system's keys live: BullMQ's queue prefix and the prefix of its own keys. */
export interface RedisNamespace {
  /** BullMQ's `prefix` of every queue and worker. */
  queuePrefix: string;
  /** Prefix of the keys in `RedisKeys`. */
  keyPrefix: string;
}

/** One server or Sentinel: the prefixes earlier releases used, so an upgrade finds its queued jobs and tasks. */
export const DEFAULT_REDIS_NAMESPACE: RedisNamespace = { queuePrefix: 'bull', keyPrefix: 'nmcp' };
/** Redis Cluster: one hash-tagged prefix for queues and keys alike. */
export const DEFAULT_CLUSTER_PREFIX = '{nessus-mcp}';

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
  /** ZSET of the tasks holding a slot on a scanner instance (score: reserved-at ms). */
  scannerReservations(pool: string, instanceId: string): string;
  /** The last health check of a scanner instance, shared by every process. */
  scannerHealth(pool: string, instanceId: string): string;
  /** The gateway's request bucket of one bearer token (its non-secret id). */
  rateLimit(tokenId: string): string;
}

export function redisKeys(prefix = DEFAULT_REDIS_NAMESPACE.keyPrefix): RedisKeys {
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
    // Without a tag in the prefix (one server), the pool name is the tag: one selection script
    // only ever touches the instances of one pool.
    scannerReservations: (pool, instanceId) => `${prefix}:scanners:{${pool}}:${instanceId}:active`,
    scannerHealth: (pool, instanceId) => `${prefix}:scanners:{${pool}}:${instanceId}:health`,
    rateLimit: (tokenId) => `${prefix}:ratelimit:${tokenId}`,
  };
}

/** The hash tag Redis Cluster would use for `key` (Redis's rule: first `{`, next `}`, non-empty), or null. */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return null;
  return key.slice(open + 1, close);
}

/**
 * The namespace for a deployment: `prefix` (REDIS_PREFIX) serves queues and keys alike when
 * set; otherwise the defaults of the topology. On a cluster the prefix must carry a hash tag,
 * or BullMQ's scripts and the task store's would fail with CROSSSLOT at the first job.
 * Returns a problem text instead when `prefix` cannot be used.
 */
export function redisNamespace(cluster: boolean, prefix: string | undefined): RedisNamespace | { problem: string } {
  if (prefix === undefined || prefix === '') {
    return cluster ? { queuePrefix: DEFAULT_CLUSTER_PREFIX, keyPrefix: DEFAULT_CLUSTER_PREFIX } : DEFAULT_REDIS_NAMESPACE;
  }
  if (/\s/.test(prefix)) return { problem: `REDIS_PREFIX='${prefix}' contains white space` };
  if (cluster && hashTagOf(prefix) === null) {
    return {
      problem: `REDIS_PREFIX='${prefix}' has no hash tag; on a Redis Cluster every key must share one slot, so wrap (part of) it in braces, as in {${prefix.replace(/[{}]/g, '') || 'nessus-mcp'}}`,
    };
  }
  return { queuePrefix: prefix, keyPrefix: prefix };
}
