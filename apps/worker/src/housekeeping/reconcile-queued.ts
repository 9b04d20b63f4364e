import { isTerminal, type ScanJobData } from '@nessus-mcp/core';
import { BATCH_LIMIT, type HousekeepingDeps } from './housekeeping-deps.js';

/** A task younger than this may still be between the gateway's two writes (task, then job). */
const SETTLE_MS = 30_000;

/**
 * Repairs what a crash between two writes can leave behind: a queued task whose job was never
 * added (the gateway died after creating the task) gets its job re-added from the stored payload
 * (job id = task id, so this is idempotent), and a scanner slot held by a task that ended or no
 * longer exists is freed.
 */
export async function reconcileQueued(deps: HousekeepingDeps, now = Date.now()): Promise<{ requeued: number; released: number }> {
  let requeued = 0;
  for (const task of await deps.tasks.list({ status: 'queued', limit: BATCH_LIMIT })) {
    if (now - Date.parse(task.created_at) < SETTLE_MS) continue;
    const queue = deps.scanQueue(task.scanner_pool);
    if (await queue.getJob(task.task_id)) continue;
    const log = deps.logger.child({ task_id: task.task_id, trace_id: task.trace_id });
    const payload = await deps.tasks.getJobPayload<ScanJobData>(task.task_id);
    if (!payload || !deps.config().pools.some((pool) => pool.name === task.scanner_pool)) {
      await deps.tasks.update(
        task.task_id,
        {
          status: 'failed',
          completed_at: new Date(now).toISOString(),
          error: {
            code: 'internal',
            message: 'The task was never queued and cannot be rebuilt (its scanner pool or stored job is gone); submit the scan again.',
          },
        },
        ['queued'],
      );
      log.warn('queued task without a job could not be re-queued; marked failed');
      continue;
    }
    await queue.add('scan', payload, { jobId: task.task_id });
    requeued += 1;
    log.info('re-queued a task whose job was missing');
  }
  let released = 0;
  const registry = deps.registry();
  for (const instance of registry.instances()) {
    for (const reservation of await registry.reservations(instance.poolName, instance.instanceId)) {
      const task = await deps.tasks.get(reservation.taskId);
      if (task && !isTerminal(task.status)) continue;
      if (await registry.release(instance.poolName, instance.instanceId, reservation.taskId)) released += 1;
    }
  }
  if (released > 0) deps.logger.info({ released }, 'freed scanner slots held by finished or missing tasks');
  return { requeued, released };
}
