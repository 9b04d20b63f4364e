import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { SystemUnderTest, eventually } from './system-under-test.js';

interface Task {
  task_id: string;
  status: string;
  results_summary?: { hosts_scanned: number } | null;
}

let system: SystemUnderTest;

beforeAll(async () => {
  // Two workers and one scanner slot: every scan start is a race for that slot.
  system = await SystemUnderTest.start({ label: 'redis-cluster', redis: 'cluster', workers: 2, maxConcurrentScans: 1, scanSeconds: 1 });
}, 90000);

afterAll(async () => {
  await system?.stop();
});

async function submit(name: string, targets: string): Promise<string> {
  const response = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets, name }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as Task).task_id;
}

async function task(id: string): Promise<Task> {
  return (await (await system.api(`/api/v1/tasks/${id}`)).json()) as Task;
}

/** Every key on every primary, read node by node (KEYS does not cross nodes). */
async function clusterKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const node of system.cluster!.nodes) {
    const redis = new Redis(node.port, node.host);
    keys.push(...(await redis.keys('*')));
    redis.disconnect();
  }
  return keys;
}

describe('the whole system on a 3-primary Redis Cluster', () => {
  it('runs scans submitted through the gateway on two workers, one at a time on the one slot, each created and launched once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push(await submit(`cluster scan ${i}`, `10.60.0.${i + 1}`));
    let maxRunning = 0;
    const done = await eventually(
      async () => {
        const tasks = await Promise.all(ids.map(task));
        maxRunning = Math.max(maxRunning, tasks.filter((t) => t.status === 'running').length);
        return tasks.every((t) => ['completed', 'failed', 'timeout', 'cancelled'].includes(t.status)) ? tasks : undefined;
      },
      90000,
      'every scan to finish',
      100,
    );
    expect(done.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
    expect(maxRunning).toBeLessThanOrEqual(1);
    const stats = await system.simStats();
    for (const id of ids) {
      expect(Object.entries(stats.by_name).find(([name]) => name.includes(id))?.[1]).toMatchObject({ created: 1, launched: 1 });
    }

    const page = await system.api(`/api/v1/tasks/${ids[0]}/results?page=1&page_size=10`);
    expect(page.status).toBe(200);
    const lines = (await page.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type?: string });
    expect(lines.filter((line) => line.type === 'vulnerability').length).toBeGreaterThan(0);
    expect(lines.find((line) => line.type === 'pagination')).toMatchObject({ page: 1, page_size: 10 });
  }, 120000);

  it('cancels a running scan over the cluster (flag, broadcast, wake-up) and the simulator stops it', async () => {
    await system.setFaults({ scan_seconds: 60 });
    try {
      const id = await submit('cluster cancel', '10.61.0.1');
      await eventually(async () => (await task(id)).status === 'running', 30000, 'running');
      // `running` starts with the create step: wait for the launch, so there is a Nessus scan to stop.
      await eventually(
        async () => (Object.entries((await system.simStats()).by_name).find(([name]) => name.includes(id))?.[1]?.launched ?? 0) >= 1,
        30000,
        'the scan launched on the simulator',
        200,
      );
      const response = await system.api(`/api/v1/tasks/${id}/cancel`, { method: 'POST' });
      expect(response.status).toBe(200);
      const done = await eventually(
        async () => {
          const t = await task(id);
          return t.status === 'running' ? undefined : t;
        },
        30000,
        'the cancel to land',
        200,
      );
      expect(done.status).toBe('cancelled');
      const stats = await system.simStats();
      expect(Object.entries(stats.by_name).find(([name]) => name.includes(id))?.[1]).toMatchObject({ stopped: 1 });
    } finally {
      await system.setFaults({ scan_seconds: 1 });
    }
  }, 60000);

  it('keeps every key of the system in the one slot of the {nessus-mcp} hash tag', async () => {
    const keys = await clusterKeys();
    expect(keys.some((key) => key.startsWith('{nessus-mcp}:task:'))).toBe(true);
    expect(keys.some((key) => key.startsWith('{nessus-mcp}:scans-nessus:'))).toBe(true);
    expect(keys.filter((key) => !key.startsWith('{nessus-mcp}:'))).toEqual([]);
  });
});
