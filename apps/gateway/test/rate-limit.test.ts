import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createRedisConnection, redisKeys, waitForRedis, type RedisClient } from '@nessus-mcp/core';
import { RequestLimiter } from '../src/http/request-limiter.js';
import { auth, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

const MCP_HEADERS = { ...auth, accept: 'application/json, text/event-stream' };
const toolCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list_scanners', arguments: {} } });

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

  it('counts every call of a JSON-RPC batch against the limit', async () => {
    const gateway = await startTestGateway({ rateLimit: { perSecond: 0.2, burst: 5 } });
    gateways.push(gateway);
    const batch = await http(gateway.url, 'POST', '/mcp', { headers: MCP_HEADERS, body: [toolCall(1), toolCall(2), toolCall(3)] });
    expect(batch.status).not.toBe(429);
    // The batch took 3 of 5: two more requests pass, the third does not.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await http(gateway.url, 'GET', '/api/v1/tasks', { headers: auth })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('refuses a batch larger than the burst, saying how to send it', async () => {
    const gateway = await startTestGateway({ rateLimit: { perSecond: 1, burst: 3 } });
    gateways.push(gateway);
    const batch = await http(gateway.url, 'POST', '/mcp', { headers: MCP_HEADERS, body: [toolCall(1), toolCall(2), toolCall(3), toolCall(4)] });
    expect(batch.status).toBe(429);
    expect(batch.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringContaining('smaller batches'), details: { calls: 4, burst: 3 } } });
    // Nothing was taken: a single request still passes.
    expect((await http(gateway.url, 'GET', '/api/v1/tasks', { headers: auth })).status).toBe(200);
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
    const limiter = new RequestLimiter(redis, redisKeys('rl-down'), { perSecond: 0.1, burst: 2 }, { warn: (_fields: unknown, message?: string) => void warnings.push(String(message)) });
    const decisions = await Promise.all([limiter.take('t'), limiter.take('t'), limiter.take('t')]);
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect(warnings).toEqual(['rate limits fall back to this process until Redis answers']);
  });
});
