import { Redis, type RedisOptions } from 'ioredis';

/**
 * `worker`: BullMQ workers block on Redis and must wait out reconnects (maxRetriesPerRequest null,
 * as BullMQ requires). `producer`: request paths (the gateway) fail fast instead of queueing
 * commands while Redis is away, so a caller gets `not_ready` rather than a hung request.
 */
export type RedisRole = 'worker' | 'producer';

export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, ...extra };
  return new Redis(url, { lazyConnect: false, ...options });
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
