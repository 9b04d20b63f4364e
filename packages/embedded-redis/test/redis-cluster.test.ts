import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { pingRedis } from '../src/redis-server.js';
import { startRedisCluster } from '../src/redis-cluster.js';

describe('startRedisCluster', () => {
  it('starts three primaries that share all 16384 slots and stops them', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.url).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
      const info = execFileSync('redis-cli', ['-p', String(cluster.nodes[0]!.port), 'cluster', 'info'], { encoding: 'utf8' });
      expect(info).toContain('cluster_state:ok');
      expect(info).toContain('cluster_slots_assigned:16384');
      expect(info).toContain('cluster_size:3');
    } finally {
      await cluster.stop();
    }
    for (const node of cluster.nodes) expect(await pingRedis(node.host, node.port)).toBe(false);
  }, 60_000);

  it('protects every node with the password and puts it in the URL', async () => {
    const cluster = await startRedisCluster({ password: 'cl@ster-pw' });
    try {
      expect(cluster.url).toMatch(/^redis\+cluster:\/\/:cl%40ster-pw@127\.0\.0\.1:\d+,/);
      const refused = execFileSync('redis-cli', ['-p', String(cluster.nodes[1]!.port), 'ping'], { encoding: 'utf8' });
      expect(refused).toContain('NOAUTH');
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
