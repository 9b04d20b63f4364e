import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import { startRedisCluster, type RunningRedisCluster } from '@nessus-mcp/embedded-redis';
import { loadRuntimeConfig } from '../src/config/runtime-config.js';
import { createHousekeepingQueue } from '../src/queues.js';
import { checkRedisTopology, createRedisConnection, waitForRedis, type RedisClient } from '../src/redis-connection.js';
import { DEFAULT_CLUSTER_PREFIX, hashTagOf } from '../src/redis-keys.js';
import { parseRedisUrl } from '../src/redis-url.js';
import { TaskStore } from '../src/task-store.js';
import { newTaskId, type Task } from '../src/tasks.js';

const PASSWORD = 'cluster-Secret-91';

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('redis+cluster:// URLs', () => {
  it('lists the nodes, the credentials and TLS for rediss+cluster', () => {
    expect(parseRedisUrl('redis+cluster://app:s%40cret@10.0.0.1:7000,node-b,[::1]:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'node-b', port: 6379 },
        { host: '::1', port: 7001 },
      ],
      options: { username: 'app', password: 's@cret' },
    });
    expect(parseRedisUrl('rediss+cluster://:pw@n1:7000/0')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'n1', port: 7000 }],
      options: { password: 'pw', tls: {} },
    });
  });

  it.each([
    ['redis+cluster://', /no cluster node address/],
    ['redis+cluster://user:hunter2@n1:7000/3', /no database '\/3'/],
    ['redis+cluster://user:hunter2@n1:7000?tls=1', /takes no parameters/],
    ['redis+cluster://user:hunter2@n1:70000', /port 70000 .* out of range/],
    ['redis+cluster://user:hunter2@n1:7000,,n2', /'' is not host:port/],
  ])('refuses %s, naming the problem and never the password', (url, problem) => {
    const error = errorOf(() => loadRuntimeConfig({ REDIS_URL: url }));
    expect(error).toMatchObject({ code: 'config_invalid', message: expect.stringMatching(problem) });
    expect(error.message).not.toContain('hunter2');
  });

  it('puts queues and keys under one hash-tagged prefix, and refuses a REDIS_PREFIX without a tag', () => {
    expect(loadRuntimeConfig({ REDIS_URL: 'redis+cluster://n1:7000' }).redisNamespace).toEqual({ queuePrefix: '{nessus-mcp}', keyPrefix: '{nessus-mcp}' });
    expect(loadRuntimeConfig({ REDIS_URL: 'redis+cluster://n1:7000', REDIS_PREFIX: 'team-a:{scans}' }).redisNamespace).toEqual({
      queuePrefix: 'team-a:{scans}',
      keyPrefix: 'team-a:{scans}',
    });
    expect(errorOf(() => loadRuntimeConfig({ REDIS_URL: 'redis+cluster://n1:7000', REDIS_PREFIX: 'nessus' }))).toMatchObject({
      code: 'config_invalid',
      message: expect.stringMatching(/REDIS_PREFIX='nessus' has no hash tag.*\{nessus\}/),
    });
    expect(errorOf(() => loadRuntimeConfig({ REDIS_URL: 'redis+cluster://n1:7000', REDIS_PREFIX: '{}x' }))).toMatchObject({ code: 'config_invalid' });
    // One server keeps the prefixes earlier releases wrote, so an upgrade finds its jobs.
    expect(loadRuntimeConfig({ REDIS_URL: 'redis://h:6379' }).redisNamespace).toEqual({ queuePrefix: 'bull', keyPrefix: 'nmcp' });
    expect(loadRuntimeConfig({}).redisNamespace).toEqual({ queuePrefix: 'bull', keyPrefix: 'nmcp' });
  });

  it('reads hash tags the way Redis does', () => {
    expect(hashTagOf('{nessus-mcp}:task:x')).toBe('nessus-mcp');
    expect(hashTagOf('nmcp:scanners:{main}:a:active')).toBe('main');
    expect(hashTagOf('{}{x}')).toBeNull();
    expect(hashTagOf('nmcp:task')).toBeNull();
  });
});

function makeTask(): Task {
  const now = new Date();
  return {
    task_id: newTaskId('main', 'any', now),
    trace_id: 'trace-cluster',
    scan_type: 'untrusted',
    name: 'over the cluster',
    description: null,
    targets: ['10.0.0.1'],
    target_count: 1,
    scanner_pool: 'main',
    scanner_instance: 'sim1',
    instance_pinned: false,
    schema_profile: 'brief',
    status: 'queued',
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    started_at: null,
    completed_at: null,
    error: null,
    nessus_scan_id: null,
    raw_scanner_status: null,
    progress: null,
    has_credentials: false,
    idempotency_key_hash: null,
    cancel_requested: false,
    results_summary: null,
  };
}

describe('on a real 3-primary Redis Cluster', () => {
  let cluster: RunningRedisCluster;
  const connections: RedisClient[] = [];
  const connect = async (url: string, role: 'worker' | 'producer'): Promise<RedisClient> => {
    const redis = createRedisConnection(url, role);
    connections.push(redis);
    redis.on('error', () => undefined);
    await waitForRedis(redis, 15_000);
    return redis;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD });
  }, 60_000);
  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await cluster?.stop();
  });

  it('runs the task store (creation with idempotency key, compare-and-set, delete) under the cluster prefix', async () => {
    const redis = await connect(cluster.url, 'producer');
    await checkRedisTopology(redis, cluster.url);
    const store = new TaskStore(redis, `{nmcp-${randomBytes(3).toString('hex')}}`);
    const task = makeTask();
    const first = await store.create(task, { idempotencyKeyHash: 'k1', paramsHash: 'p1' });
    const again = await store.create({ ...makeTask(), name: 'duplicate' }, { idempotencyKeyHash: 'k1', paramsHash: 'p2' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, paramsHash: 'p1', task: { task_id: task.task_id } });
    expect(await store.update(task.task_id, { status: 'running' }, ['queued'])).toEqual({ applied: true, previous: 'queued' });
    expect(await store.update(task.task_id, { status: 'running' }, ['queued'])).toEqual({ applied: false, previous: 'running' });
    await store.recordDuration('main', 42);
    expect(await store.recentDurations('main')).toEqual([42]);
    expect((await store.list({ limit: 5 })).map((t) => t.task_id)).toEqual([task.task_id]);
    const keyless = makeTask();
    expect((await store.create(keyless)).created).toBe(true);
    expect((await store.list({ limit: 5 })).map((t) => t.task_id).sort()).toEqual([task.task_id, keyless.task_id].sort());
    await store.delete(task.task_id);
    expect(await store.get(task.task_id)).toBeNull();
  });

  it('fails with CROSSSLOT without a hash-tagged prefix (what the tag prevents)', async () => {
    const redis = await connect(cluster.url, 'producer');
    const store = new TaskStore(redis, `untagged-${randomBytes(3).toString('hex')}`);
    await expect(store.create(makeTask(), { idempotencyKeyHash: 'k2', paramsHash: 'p' })).rejects.toThrow(/CROSSSLOT/);
  });

  it('runs a BullMQ job under the default cluster prefix', async () => {
    const producer = await connect(cluster.url, 'producer');
    const consumer = await connect(cluster.url, 'worker');
    const queue = createHousekeepingQueue(producer, { logger: { warn: () => undefined }, prefix: DEFAULT_CLUSTER_PREFIX });
    const worker = new Worker(queue.name, async (job) => `ran ${job.name}`, { connection: consumer, prefix: DEFAULT_CLUSTER_PREFIX });
    try {
      const done = new Promise<unknown>((resolve, reject) => {
        worker.on('completed', (_job, result) => resolve(result));
        worker.on('failed', (_job, error) => reject(error));
      });
      await queue.add('expire-tasks', {});
      expect(await done).toBe('ran expire-tasks');
    } finally {
      await worker.close();
      await queue.close();
    }
    // The same queue without a tag cannot even be created on a cluster.
    const untagged = new Queue(`untagged-${randomBytes(3).toString('hex')}`, { connection: producer, prefix: 'bull' });
    untagged.on('error', () => undefined);
    await expect(untagged.add('x', {})).rejects.toThrow(/CROSSSLOT|same slot/i);
    await untagged.close();
  }, 30_000);

  it('refuses at start a redis:// URL that points at a cluster node, without the password', async () => {
    const node = cluster.nodes[0]!;
    const url = `redis://:${PASSWORD}@127.0.0.1:${node.port}`;
    const redis = await connect(url, 'producer');
    const error = await checkRedisTopology(redis, url).then(
      () => null,
      (caught: unknown) => caught as Error,
    );
    expect(error).toMatchObject({ code: 'config_invalid', message: expect.stringContaining(`use redis+cluster://:***@127.0.0.1:${node.port}`) });
    expect(error!.message).not.toContain(PASSWORD);
  });

  it('refuses a redis+cluster:// URL that points at a server without cluster mode, saying so', async () => {
    const single = new URL(process.env.REDIS_URL!);
    const redis = createRedisConnection(`redis+cluster://${single.host}`, 'producer');
    connections.push(redis);
    redis.on('error', () => undefined);
    await expect(waitForRedis(redis, 3000)).rejects.toThrow(/cluster support disabled/);
  });
});
