import { isTerminal, isValidTaskId } from '@nessus-mcp/core';
import { BATCH_LIMIT, DAY_MS, type HousekeepingDeps } from './housekeeping-deps.js';

/**
 * Deletes finished tasks past their retention (completed after `retention.completed_days`,
 * failed / timeout / cancelled after `retention.failed_days`, counted from when they ended):
 * their files, their job and their record.
 */
export async function expireTasks(deps: HousekeepingDeps, now = Date.now()): Promise<{ expired: number }> {
  const { completed_days, failed_days } = deps.config().retention;
  const ids = await deps.tasks.idsCreatedBefore(now - Math.min(completed_days, failed_days) * DAY_MS, BATCH_LIMIT);
  let expired = 0;
  for (const taskId of ids) {
    const task = await deps.tasks.get(taskId);
    if (task && !isTerminal(task.status)) continue;
    if (task) {
      const endedAt = Date.parse(task.completed_at ?? task.updated_at);
      const keepDays = task.status === 'completed' ? completed_days : failed_days;
      if (Number.isFinite(endedAt) && now - endedAt < keepDays * DAY_MS) continue;
      await removeJob(deps, task.scanner_pool, taskId);
    }
    // Only a well-formed id ever becomes a path; anything else in the index is dropped from Redis alone.
    if (isValidTaskId(taskId)) await deps.files.remove(taskId);
    await deps.tasks.delete(taskId);
    expired += 1;
  }
  if (expired > 0) deps.logger.info({ expired }, 'expired finished tasks');
  return { expired };
}

async function removeJob(deps: HousekeepingDeps, pool: string, taskId: string): Promise<void> {
  try {
    await (await deps.scanQueue(pool).getJob(taskId))?.remove();
  } catch (error) {
    deps.logger.warn({ task_id: taskId, err: error instanceof Error ? error.message : String(error) }, 'could not remove the job of an expired task');
  }
}
