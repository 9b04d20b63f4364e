import { startRedisServer, type RunningRedis } from './redis-server.js';

/**
 * Jest globalSetup/globalTeardown shared by every suite that needs Redis: one real redis-server
 * per test run on a free port, no persistence. Suites read REDIS_URL and isolate themselves by
 * key prefix or database number.
 */
declare global {
  var __nessusMcpRedis: RunningRedis | undefined;
}

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL && !process.env.REDIS_URL_SPAWNED) return;
  const redis = await startRedisServer();
  globalThis.__nessusMcpRedis = redis;
  process.env.REDIS_URL = redis.url;
  process.env.REDIS_URL_SPAWNED = '1';
}

export async function teardown(): Promise<void> {
  await globalThis.__nessusMcpRedis?.stop();
  globalThis.__nessusMcpRedis = undefined;
}
