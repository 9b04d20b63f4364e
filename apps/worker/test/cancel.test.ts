import { describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { redisUrlForDb, simCounts, useWorkerSystem, waitFor, waitForJob, waitForStatus, type GatewayStandIn, type InProcessWorker } from './worker-harness.js';

const REDIS_URL = redisUrlForDb(2);
/** The explicit promise: a cancel ends the task within 5 s in every state. */
const CANCEL_BOUND_MS = 5000;

describe('cancelling a scan', () => {
  let sim: RunningSimulator;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;

  // One slot, so a second task waits for capacity.
  useWorkerSystem({ redisUrl: REDIS_URL, label: 'cancel', faults: { scan_seconds: 60 }, config: { capacity: 1 } }, (system) => {
    ({ sim, gateway } = system);
    worker = system.workers[0]!;
  });

  const scanRunning = (taskId: string) =>
    waitFor(async () => (await gateway.tasks.get(taskId))?.raw_scanner_status === 'running', { what: `${taskId} running on Nessus` });

  it('cancels a task requested while its job still waits, before any scan is created', async () => {
    const task = await gateway.submit({ enqueue: false });
    await gateway.cancel(task.task_id);
    await gateway.queue.add('scan', (await gateway.tasks.getJobPayload(task.task_id))!, { jobId: task.task_id });
    const done = await waitForStatus(gateway, task.task_id, ['cancelled', 'running', 'completed'], CANCEL_BOUND_MS);
    expect(done.status).toBe('cancelled');
    expect(simCounts(sim, task.task_id).created).toBe(0);
    const job = await waitForJob(gateway, task.task_id, 'completed');
    expect(job.returnvalue).toMatchObject({ status: 'cancelled' });
  });

  it('cancels a scan parked between polls and a task waiting for a scanner slot, stopping the running scan', async () => {
    const running = await gateway.submit();
    await scanRunning(running.task_id);
    const waiting = await gateway.submit();
    await waitFor(async () => (await gateway.queue.getJob(waiting.task_id))?.data.state?.waiting_for_capacity_since, {
      what: 'second task waiting for capacity',
    });

    await gateway.cancel(waiting.task_id);
    expect((await waitForStatus(gateway, waiting.task_id, ['cancelled', 'running'], CANCEL_BOUND_MS)).status).toBe('cancelled');
    expect(simCounts(sim, waiting.task_id).created).toBe(0);

    await gateway.cancel(running.task_id);
    const done = await waitForStatus(gateway, running.task_id, ['cancelled', 'completed', 'failed'], CANCEL_BOUND_MS);
    expect(done.status).toBe('cancelled');
    expect(done.completed_at).not.toBeNull();
    expect(simCounts(sim, running.task_id)).toMatchObject({ created: 1, launched: 1, stopped: 1 });
  });

  it('aborts a Nessus request in flight when the cancel arrives mid-request, then stops the scan', async () => {
    const task = await gateway.submit();
    await scanRunning(task.task_id);
    // Every answer now takes 2 s; polls come at most 400 ms apart, so 700 ms later one is in flight.
    sim.setFaults({ latency_ms: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await gateway.cancel(task.task_id);
    const done = await waitForStatus(gateway, task.task_id, ['cancelled', 'completed', 'failed'], CANCEL_BOUND_MS);
    sim.setFaults({ latency_ms: 0 });
    expect(done.status).toBe('cancelled');
    expect(worker.logs.lines.some((line) => line.includes(task.task_id) && line.includes('aborting the running step'))).toBe(true);
    expect(simCounts(sim, task.task_id).stopped).toBe(1);
  });
});
