import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisConnection, waitForRedis, DEFAULT_CLUSTER_PREFIX, type RedisClient } from '@nessus-mcp/core';
import { startRedisCluster, type RunningRedisCluster } from '@nessus-mcp/embedded-redis';
import type { ScannerInstanceConfig, ScannerPoolsConfig } from '../src/config.js';
import { ScannerRegistry } from '../src/registry.js';

const instance = (id: string, max: number): ScannerInstanceConfig => ({
  instance_id: id,
  name: `Scanner ${id}`,
  url: `http://127.0.0.1:1/${id}`,
  access_key: 'k',
  secret_key: 's',
  max_concurrent_scans: max,
  enabled: true,
  tls_verify: true,
  timeout_ms: 1_000,
});

describe('scanner slot reservations on a real Redis Cluster', () => {
  let cluster: RunningRedisCluster;
  const connections: RedisClient[] = [];
  const registries: ScannerRegistry[] = [];

  /** A registry on its own cluster connection, as each worker process has. */
  const workerRegistry = async (config: ScannerPoolsConfig): Promise<ScannerRegistry> => {
    const redis = createRedisConnection(cluster.url, 'worker');
    connections.push(redis);
    await waitForRedis(redis, 15_000);
    const registry = new ScannerRegistry(config, { redis, keyPrefix: DEFAULT_CLUSTER_PREFIX });
    registries.push(registry);
    return registry;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(registries.map((r) => r.close()));
    for (const redis of connections) redis.disconnect();
    await cluster?.stop();
  });

  it('gives the last slot of a scanner to exactly one of two workers reserving it together', async () => {
    // Each round is a fresh pool: one slot left on `busy` (the other is held), the sibling full.
    for (let round = 0; round < 20; round += 1) {
      const pool = `race${round}`;
      const config: ScannerPoolsConfig = {
        default_pool: pool,
        pools: [{ name: pool, type: 'mock', folder: 'nessus-mcp', instances: [instance('busy', 2), instance('full', 1)] }],
      };
      const [a, b] = await Promise.all([workerRegistry(config), workerRegistry(config)]);
      expect((await a.selectInstance(pool, `held-${round}`, 'busy'))?.instanceId).toBe('busy');
      expect((await a.selectInstance(pool, `full-${round}`, 'full'))?.instanceId).toBe('full');
      const picks = await Promise.all([
        a.selectInstance(pool, `a-${round}`),
        b.selectInstance(pool, `b-${round}`),
        a.selectInstance(pool, `a2-${round}`),
        b.selectInstance(pool, `b2-${round}`),
      ]);
      expect(picks.filter((pick) => pick !== null).map((pick) => pick!.instanceId)).toEqual(['busy']);
      expect(Object.fromEntries((await b.load(pool)).map((load) => [load.instanceId, load.active]))).toEqual({ busy: 2, full: 1 });
    }
  }, 60_000);

  it('frees a slot for the other worker once released, and hands a retried task its own slot back', async () => {
    const config: ScannerPoolsConfig = { default_pool: 'p', pools: [{ name: 'p', type: 'mock', folder: 'nessus-mcp', instances: [instance('only', 1)] }] };
    const [a, b] = await Promise.all([workerRegistry(config), workerRegistry(config)]);
    expect((await a.selectInstance('p', 'first'))?.instanceId).toBe('only');
    expect(await b.selectInstance('p', 'second')).toBeNull();
    expect(await b.selectInstance('p', 'first')).toMatchObject({ instanceId: 'only', reused: true });
    expect(await a.release('p', 'only', 'first')).toBe(true);
    expect((await b.selectInstance('p', 'second'))?.instanceId).toBe('only');
    expect((await a.reservations('p', 'only')).map((r) => r.taskId)).toEqual(['second']);
  });
});
