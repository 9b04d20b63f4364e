import { AppError, isTerminal } from '@nessus-mcp/core';
import type { TaskViewOutput } from '../schemas/tool-outputs.js';
import { buildTaskView } from './task-view.js';
import { assertTaskId, type CallContext, type ServiceContext } from './service-context.js';

/**
 * Requests the cancel and makes it take effect as soon as possible. The worker owns every
 * transition after `queued`; the gateway only finishes a job no worker has touched yet (waiting,
 * no Nessus scan), and wakes a delayed one so its worker handles the flag now instead of at its
 * next poll.
 */
export async function cancelScan(context: ServiceContext, taskId: string, call: CallContext): Promise<TaskViewOutput> {
  assertTaskId(taskId);
  const task = await context.tasks.require(taskId);
  if (isTerminal(task.status)) {
    throw new AppError('conflict', `task ${taskId} is already ${task.status}; only queued or running scans can be cancelled`, {
      details: { task_id: taskId, status: task.status },
    });
  }
  const flagged = await context.tasks.update(taskId, { cancel_requested: true }, ['queued', 'running']);
  if (!flagged.applied) {
    throw new AppError('conflict', `task ${taskId} became ${flagged.previous ?? 'unknown'} meanwhile; only queued or running scans can be cancelled`, {
      details: { task_id: taskId, status: flagged.previous },
    });
  }
  await context.tasks.publishCancel(taskId);

  const job = await context.queues.forPool(task.scanner_pool).getJob(taskId);
  const state = job ? await job.getState() : null;
  if (job && state === 'waiting' && !job.data.state?.nessus_scan_id) {
    // remove() fails if a worker locked the job in between; then the worker sees the flag.
    const removed = await job.remove().then(
      () => true,
      () => false,
    );
    if (removed) {
      await context.tasks.update(
        taskId,
        { status: 'cancelled', completed_at: new Date().toISOString(), error: { code: 'cancelled', message: 'cancelled before it started' } },
        ['queued'],
      );
    }
  } else if (job && state === 'delayed') {
    await job.promote().catch((error: unknown) => call.logger.debug({ task_id: taskId, err: String(error) }, 'delayed job already moved on'));
  }
  call.logger.info({ task_id: taskId, job_state: state }, 'cancel requested');
  return buildTaskView(context, await context.tasks.require(taskId), call);
}
