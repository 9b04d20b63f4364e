import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRedisServer, type RunningRedis } from '@nessus-mcp/embedded-redis';
import type { Task } from '@nessus-mcp/core';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import {
  GatewayStandIn,
  removeDir,
  simCounts,
  startInProcessWorker,
  startSim,
  tempDir,
  waitFor,
  waitForStatus,
  writeScannersConfig,
  type InProcessWorker,
} from './worker-harness.js';

describe('a Redis restart in the middle of scans', () => {
  let redis: RunningRedis;
  let sim: RunningSimulator;
  let dir: string;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;

  beforeAll(async () => {
    dir = tempDir('aof');
    redis = await startRedisServer({ dir: join(dir, 'redis'), appendonly: true });
    sim = await startSim({ scan_seconds: 2 });
    worker = await startInProcessWorker({ redisUrl: redis.url, dataDir: dir, configPath: writeScannersConfig(dir, sim.url, { capacity: 3 }) });
    gateway = new GatewayStandIn(redis.url);
  });

  afterAll(async () => {
    await worker.app.close();
    await gateway.close();
    await redis.stop();
    await sim.close();
    removeDir(dir);
  });

  it('loses no task: every scan completes once after Redis comes back from its AOF', async () => {
    const tasks: Task[] = [];
    for (let i = 0; i < 6; i += 1) tasks.push(await gateway.submit({ targets: [`10.3.0.${i + 1}`] }));
    await waitFor(async () => (await gateway.tasks.get(tasks[0]!.task_id))?.raw_scanner_status === 'running', { what: 'first scan running' });

    const port = redis.port;
    await redis.stop();
    redis = await startRedisServer({ dir: join(dir, 'redis'), appendonly: true, port });

    for (const task of tasks) {
      const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed'], 60_000);
      expect(done.error).toBeNull();
      expect(done.status).toBe('completed');
      expect(simCounts(sim, task.task_id)).toMatchObject({ created: 1, launched: 1 });
    }
  }, 90_000);
});
