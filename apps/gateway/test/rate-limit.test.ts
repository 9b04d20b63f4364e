import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createRedisConnection, redisKeys, waitForRedis, type RedisClient } from '@nessus-mcp/core';
import { RequestLimiter } from '../src/http/request-limiter.js';
import { auth, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

describe('the per-token limit shared by gateways through Redis', () => {
  const gateways: TestGateway[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
  });

  it('lets two gateways on one Redis together pass no more than the limit of one', async () => {
    // 0.2/s refills one request every 5 s: the test runs well inside that.
    const first = await startTestGateway({ rateLimit: { perSecond: 0.2, burst: 4 } });
    gateways.push(first);
    const second = await startTestGateway({ rateLimit: { perSecond: 0.2, burst: 4 }, prefix: first.prefix });
    gateways.push(second);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await http(i % 2 === 0 ? first.url : second.url, 'GET', '/api/v1/tasks', { headers: auth })).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    expect(statuses.slice(4)).toEqual([429, 429, 429, 429, 429, 429]);
    const refused = await http(second.url, 'GET', '/api/v1/tasks', { headers: auth });
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  });
});

describe('RequestLimiter', () => {
  const connections: RedisClient[] = [];
  const connect = async (): Promise<RedisClient> => {
    const redis = createRedisConnection(process.env.REDIS_URL!, 'producer');
    connections.push(redis);
    await waitForRedis(redis);
    return redis;
  };
  afterAll(() => {
    for (const redis of connections) redis.disconnect();
  });

  it('grants exactly the burst to many concurrent takes from two processes', async () => {
    const keys = redisKeys(`rl${randomBytes(3).toString('hex')}`);
    const quiet = { warn: () => undefined };
    const a = new RequestLimiter(await connect(), keys, { perSecond: 0.1, burst: 5 }, quiet);
    const b = new RequestLimiter(await connect(), keys, { perSecond: 0.1, burst: 5 }, quiet);
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take('token-1')));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    // Another token has its own bucket.
    expect((await a.take('token-2')).allowed).toBe(true);
  });

  it('falls back to its own buckets, and says so once, while Redis does not answer', async () => {
    const redis = await connect();
    redis.disconnect();
    const warnings: string[] = [];
    const limiter = new RequestLimiter(
      redis,
      redisKeys('rl-down'),
      { perSecond: 0.1, burst: 2 },
      { warn: (_fields: unknown, message?: string) => void warnings.push(String(message)) },
    );
    const decisions = await Promise.all([limiter.take('t'), limiter.take('t'), limiter.take('t')]);
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect(warnings).toEqual(['rate limits fall back to this process until Redis answers']);
  });
});
