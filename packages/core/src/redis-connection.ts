import { Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url.js';

/**
 * `worker`: BullMQ workers block on Redis and must wait out reconnects (maxRetriesPerRequest null,
 * as BullMQ requires). `producer`: request paths (the gateway) fail fast instead of queueing
 * commands while Redis is away, so a caller gets `not_ready` rather than a hung request.
 */
export type RedisRole = 'worker' | 'producer';

/** A connection to the Redis `url` names (see `parseRedisUrl`: one server, or a primary found through Sentinel). */
export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, ...extra };
  const target = parseRedisUrl(url);
  if (target.kind === 'server') return new Redis(url, { lazyConnect: false, ...options });
  return new Redis({ lazyConnect: false, ...target.options, ...options });
}

/** Resolves once the connection is ready, rejecting after `timeoutMs` with the last error. */
export async function waitForRedis(redis: Redis, timeoutMs = 10000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`));
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
