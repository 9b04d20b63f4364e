import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createRedisConnection, redisKeys, waitForRedis, type RedisClient } from '@nessus-mcp/core';
import { LEASE_MS, RequestLimiter } from '../src/http/request-limiter.js';
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
    const keys = freshKeys();
    const a = new RequestLimiter(await connect(), keys, { perSecond: 0.1, burst: 5 }, quiet);
    const b = new RequestLimiter(await connect(), keys, { perSecond: 0.1, burst: 5 }, quiet);
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take('token-1')));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    // Another token has its own bucket.
    expect((await a.take('token-2')).allowed).toBe(true);
  });

  const quiet = { warn: () => undefined };
  const freshKeys = (): ReturnType<typeof redisKeys> => redisKeys(`rl${randomBytes(3).toString('hex')}`);
  /** `count` takes, `inFlight` at a time, spread over the limiters in turn. */
  const takeMany = async (limiters: RequestLimiter[], count: number, inFlight: number, key = 'token-1'): Promise<number> => {
    let allowed = 0;
    for (let done = 0; done < count; done += inFlight) {
      const wave = await Promise.all(Array.from({ length: Math.min(inFlight, count - done) }, (_, i) => limiters[(done + i) % limiters.length]!.take(key)));
      allowed += wave.filter((decision) => decision.allowed).length;
    }
    return allowed;
  };

  it('costs a busy client far fewer round trips than requests, by leasing tokens ahead', async () => {
    const limiter = new RequestLimiter(await connect(), freshKeys(), { perSecond: 10_000, burst: 10_000 }, quiet);
    expect(await takeMany([limiter], 640, 32)).toBe(640);
    expect(limiter.roundTrips).toBeLessThan(640 / 10);
  });

  it('still lets two busy gateways together pass exactly what the shared bucket holds', async () => {
    const keys = freshKeys();
    const a = new RequestLimiter(await connect(), keys, { perSecond: 0.001, burst: 100 }, quiet);
    const b = new RequestLimiter(await connect(), keys, { perSecond: 0.001, burst: 100 }, quiet);
    expect(await takeMany([a, b], 400, 16)).toBe(100);
  });

  it('gives unspent leased tokens back to the bucket, for the other gateways', async () => {
    const keys = freshKeys();
    const clock = { now: Date.now() };
    const a = new RequestLimiter(await connect(), keys, { perSecond: 0.001, burst: 100 }, quiet, () => clock.now);
    const b = new RequestLimiter(await connect(), keys, { perSecond: 0.001, burst: 100 }, quiet);
    const byA = await takeMany([a], 40, 8);
    const byB = await takeMany([b], 100, 1);
    // a holds what it leased and did not spend; once its lease is over, its next refill returns it.
    expect(byA + byB).toBeLessThan(100);
    clock.now += 2 * LEASE_MS;
    // Without the give-back those tokens would be lost to every gateway until the bucket refilled.
    expect(byA + byB + (await takeMany([a, b], 200, 1))).toBe(100);
  });

  it('takes one token per request, no more, from a client calling one request at a time', async () => {
    const redis = await connect();
    const keys = freshKeys();
    const clock = { now: Date.now() };
    const limiter = new RequestLimiter(redis, keys, { perSecond: 0.001, burst: 100 }, quiet, () => clock.now);
    for (let i = 0; i < 5; i += 1) {
      expect((await limiter.take('token-1')).allowed).toBe(true);
      clock.now += 2 * LEASE_MS;
    }
    expect(limiter.roundTrips).toBe(5);
    expect(Number(await redis.hget(keys.rateLimit('token-1'), 'tokens'))).toBeCloseTo(95, 1);
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
