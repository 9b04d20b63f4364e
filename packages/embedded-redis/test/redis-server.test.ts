import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, pingRedis, stopStaleRedis } from '../src/redis-server.js';

describe('startRedisServer', () => {
  it('starts a real redis-server that answers PING and stops it cleanly', async () => {
    const redis = await startRedisServer();
    try {
      expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(await pingRedis(redis.host, redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await pingRedis(redis.host, redis.port)).toBe(false);
  });

  it('writes an AOF and a pid file in the data dir when persistence is on, and stopStaleRedis stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmcp-redis-'));
    try {
      const redis = await startRedisServer({ dir, appendonly: true, detached: true });
      expect(existsSync(join(dir, 'redis.pid'))).toBe(true);
      expect(existsSync(join(dir, 'appendonlydir'))).toBe(true);
      expect(await stopStaleRedis(dir)).toBe(redis.pid);
      expect(await pingRedis(redis.host, redis.port)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a clear message when the binary is missing', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /not found at \/nonexistent\/redis-server.*apt-get install -y redis-server/,
    );
  });
});
