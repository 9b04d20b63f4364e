import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import { findFreePort, findRedisServerBinary } from '@nessus-mcp/embedded-redis';
import { loadRuntimeConfig } from '../src/config/runtime-config.js';
import { createRedisConnection, waitForRedis, type RedisClient } from '../src/redis-connection.js';
import { parseRedisUrl, redactRedisUrl } from '../src/redis-url.js';

describe('REDIS_URL forms', () => {
  it('passes one-server URLs through', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'server', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://:pw@redis.example:6380')).toEqual({ kind: 'server', url: 'rediss://:pw@redis.example:6380' });
  });

  it('reads Sentinel addresses, primary name, database and credentials', () => {
    const target = parseRedisUrl(
      'redis+sentinel://app:s%40cret@10.0.0.1:26379,sentinel-b,[::1]:26380/my%20primary/3?sentinel_password=sp&sentinel_username=su',
    );
    expect(target).toEqual({
      kind: 'sentinel',
      options: {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: 'sentinel-b', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'my primary',
        db: 3,
        username: 'app',
        password: 's@cret',
        sentinelUsername: 'su',
        sentinelPassword: 'sp',
      },
    });
    expect(parseRedisUrl('redis+sentinel://:pw@s1/mymaster')).toEqual({
      kind: 'sentinel',
      options: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster', password: 'pw' },
    });
  });

  it.each([
    ['redis+sentinel://s1:26379', /no primary name/],
    ['redis+sentinel:///mymaster', /no Sentinel address/],
    ['redis+sentinel://s1:99999/mymaster', /out of range/],
    ['redis+sentinel://s1/mymaster/x', /database 'x' is not a number/],
    ['redis+sentinel://s1/mymaster?password=x', /unknown parameter 'password'/],
    ['redis+cluster://n1:7000,n2:7000/2', /has no database '\/2'/],
    ['rediss+sentinel://s1/mymaster', /TLS to Sentinels is not supported/],
    ['http://127.0.0.1:6379', /unknown scheme/],
    ['127.0.0.1:6379', /unknown scheme/],
  ])('refuses %s with config_invalid', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringMatching(message) }));
  });

  it('never repeats a password in its errors, and redacts it for display', () => {
    let error: unknown;
    try {
      parseRedisUrl('redis+sentinel://user:hunter2@s1/mymaster?bogus=1');
    } catch (caught) {
      error = caught;
    }
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect(redactRedisUrl('redis://user:hunter2@h:6379/0')).toBe('redis://user:***@h:6379/0');
    expect(redactRedisUrl('redis://:hunter2@h')).toBe('redis://:***@h');
    expect(redactRedisUrl('redis://h:6379')).toBe('redis://h:6379');
  });

  it('is checked when the configuration loads', () => {
    expect(() => loadRuntimeConfig({ REDIS_URL: 'redis+cluster://n1:7000?db=1' })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    expect(loadRuntimeConfig({ REDIS_URL: 'redis+sentinel://s1/mymaster' }).redisUrl).toBe('redis+sentinel://s1/mymaster');
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Redis through a real Sentinel', () => {
  let sentinel: ChildProcess;
  let dir: string;
  let url: string;
  const connections: RedisClient[] = [];

  beforeAll(async () => {
    const binary = findRedisServerBinary();
    if (!binary) throw new Error('redis-server is required (npm test installs it)');
    const primary = new URL(process.env.REDIS_URL!);
    dir = await mkdtemp(join(tmpdir(), 'sentinel-'));
    const port = await findFreePort();
    // Sentinel rewrites its configuration file, so it gets its own.
    await writeFile(
      join(dir, 'sentinel.conf'),
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor testprimary ${primary.hostname} ${primary.port} 1`,
        'sentinel down-after-milliseconds testprimary 60000',
      ].join('\n'),
    );
    sentinel = spawn(binary, [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
    url = `redis+sentinel://127.0.0.1:${port}/testprimary`;
    // Connections made before the Sentinel listens would only log refusals while they retry.
    for (let attempt = 0; !(await canConnect(port)); attempt += 1) {
      if (attempt > 100 || sentinel.exitCode !== null) throw new Error('the Sentinel did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    sentinel.kill('SIGTERM');
    await new Promise((resolve) => (sentinel.exitCode === null ? sentinel.once('exit', resolve) : resolve(null)));
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the primary through the Sentinel and runs a BullMQ job on it', async () => {
    const producer = createRedisConnection(url, 'producer');
    const worker = createRedisConnection(url, 'worker');
    connections.push(producer, worker);
    // The Sentinel may need a moment after starting before it answers.
    await waitForRedis(producer, 15000);
    const key = `sentinel-test:${randomBytes(4).toString('hex')}`;
    await producer.set(key, 'through sentinel', 'EX', 60);
    // The same key is visible on the primary itself: the Sentinel led to the right server.
    const direct = createRedisConnection(process.env.REDIS_URL!, 'producer');
    connections.push(direct);
    await waitForRedis(direct);
    expect(await direct.get(key)).toBe('through sentinel');

    const name = `sentinel-${randomBytes(4).toString('hex')}`;
    const queue = new Queue(name, { connection: producer });
    const runner = new Worker(name, async (job) => `done ${String(job.data.n)}`, { connection: worker });
    try {
      const finished = new Promise<unknown>((resolve, reject) => {
        runner.on('completed', (_job, result) => resolve(result));
        runner.on('failed', (_job, error) => reject(error));
      });
      await queue.add('t', { n: 7 });
      expect(await finished).toBe('done 7');
    } finally {
      await runner.close();
      await queue.close();
    }
  }, 40000);
});
