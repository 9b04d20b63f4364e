import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { Task } from '@nessus-mcp/core';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { redisUrlForDb, simCounts, useWorkerSystem, waitForStatus, type GatewayStandIn, type InProcessWorker } from './worker-harness.js';

const REDIS_URL = redisUrlForDb(4);
const CAPACITY = 4;

describe('several workers sharing one pool', () => {
  let sim: RunningSimulator;
  let workers: InProcessWorker[];
  let gateway: GatewayStandIn;

  useWorkerSystem(
    { redisUrl: REDIS_URL, label: 'capacity', faults: { scan_seconds: 1 }, config: { capacity: CAPACITY, pollMinMs: 100, pollMaxMs: 200 }, workers: 2 },
    (system) => ({ sim, workers, gateway } = system),
  );

  it('never runs more scans than the pool capacity and completes 40 tasks exactly once each', async () => {
    const tasks: Task[] = [];
    for (let i = 0; i < 40; i += 1) tasks.push(await gateway.submit({ targets: [`10.2.0.${i + 1}`] }));
    const sampler = new Redis(REDIS_URL);
    let maxRunning = 0;
    let sampling = true;
    const sampling$ = (async () => {
      while (sampling) {
        const statuses = await Promise.all(tasks.map((task) => sampler.hget(gateway.tasks.keys.task(task.task_id), 'status')));
        maxRunning = Math.max(maxRunning, statuses.filter((status) => status === 'running').length);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      for (const task of tasks) expect((await waitForStatus(gateway, task.task_id, ['completed', 'failed'], 90_000)).status).toBe('completed');
    } finally {
      sampling = false;
      await sampling$;
      await sampler.quit();
    }
    expect(maxRunning).toBeGreaterThan(0);
    expect(maxRunning).toBeLessThanOrEqual(CAPACITY);
    for (const task of tasks) expect(simCounts(sim, task.task_id)).toEqual({ created: 1, launched: 1, stopped: 0 });
    // Both processes took part.
    for (const worker of workers) expect(worker.logs.lines.some((line) => line.includes('scan started on scanner instance'))).toBe(true);
  }, 120_000);
});
