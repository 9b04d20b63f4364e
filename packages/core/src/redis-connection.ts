import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { AppError } from './errors.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

/**
 * `worker`: BullMQ workers block on Redis and must wait out reconnects (maxRetriesPerRequest null,
 * as BullMQ requires). `producer`: request paths (the gateway) fail fast instead of queueing
 * commands while Redis is away, so a caller gets `not_ready` rather than a hung request.
 */
export type RedisRole = 'worker' | 'producer';

/** One server (directly or through Sentinel) or a Redis Cluster: the same commands, the same scripts. */
export type RedisClient = Redis | Cluster;

/**
 * A connection to the Redis `url` names (see `parseRedisUrl`: one server, a primary found
 * through Sentinel, or a cluster). A cluster client follows MOVED/ASK redirections and keeps
 * one connection per primary; BullMQ reads the per-node options from `redisOptions`.
 */
export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): RedisClient {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, ...extra };
  const target = parseRedisUrl(url);
  if (target.kind === 'server') return new Redis(url, { lazyConnect: false, ...options });
  if (target.kind === 'sentinel') return new Redis({ lazyConnect: false, ...target.options, ...options });
  return new Cluster(target.nodes, {
    lazyConnect: false,
    enableReadyCheck: true,
    // The cluster-level offline queue holds commands while the slot map loads or a failover
    // moves a slot; producers refuse instead, like their single-server connections.
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    redisOptions: { ...options, ...target.options },
  });
}

/**
 * Refuses a Redis that cannot serve this URL, naming the problem (never the password): a
 * `redis://` URL pointing at a cluster node would fail on every key another node owns, and a
 * cluster that lost slots refuses writes. Call after `waitForRedis`.
 */
export async function checkRedisTopology(redis: RedisClient, url: string): Promise<void> {
  const shown = redactRedisUrl(url);
  if (redis instanceof Cluster) {
    const info = String(await redis.cluster('INFO'));
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    if (state !== 'ok') {
      throw new AppError(
        'config_invalid',
        `REDIS_URL=${shown}: the cluster reports cluster_state:${state ?? 'unknown'}; every hash slot must be served before the system can start`,
        { details: { variable: 'REDIS_URL' } },
      );
    }
    return;
  }
  const info = await redis.info('cluster');
  if (/cluster_enabled:1/.test(info)) {
    throw new AppError(
      'config_invalid',
      `REDIS_URL=${shown}: this server is a Redis Cluster node; use redis+cluster://${shown.replace(/^[a-z+]+:\/\//i, '').replace(/\/.*$/, '')} (rediss+cluster:// for TLS)`,
      {
        details: { variable: 'REDIS_URL' },
      },
    );
  }
}

/** A cluster client hides why every node failed behind "Failed to refresh slots cache": say it. */
function describeConnectError(error: unknown): string {
  const nodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  return nodeError instanceof Error ? `${String(error)} (${nodeError.message})` : String(error);
}

/** Resolves once the connection is ready, rejecting after `timeoutMs` with the last error. */
export async function waitForRedis(redis: RedisClient, timeoutMs = 10000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${timeoutMs} ms${lastError ? `: ${describeConnectError(lastError)}` : ''}`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown): void => {
      lastError = error;
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}
