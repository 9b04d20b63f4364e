import { isTerminal, isValidTaskId } from '@nessus-mcp/core';
import { postingsOf } from '@nessus-mcp/results';
import { BATCH_LIMIT, DAY_MS, type HousekeepingDeps } from './housekeeping-deps.js';

/**
 * Deletes finished tasks past their retention (completed after `retention.completed_days`,
 * failed / timeout / cancelled after `retention.failed_days`, counted from when they ended):
 * their files, their job and their record. A completed scan's fingerprint is kept aside for
 * the history (see `expireHistory`).
 */
export async function expireTasks(deps: HousekeepingDeps, now = Date.now()): Promise<{ expired: number; history_expired: number }> {
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
    if (isValidTaskId(taskId)) {
      await keepFingerprint(deps, taskId, now);
      await deps.files.remove(taskId);
    }
    await deps.tasks.delete(taskId);
    expired += 1;
  }
  if (expired > 0) deps.logger.info({ expired }, 'expired finished tasks');
  const { history_expired } = await expireHistory(deps, now);
  return { expired, history_expired };
}

/** Moves an indexed scan's fingerprint into the history before the task's files are removed. */
async function keepFingerprint(deps: HousekeepingDeps, taskId: string, now: number): Promise<void> {
  if (!(await deps.tasks.index.isIndexed(taskId))) return;
  await deps.files.keepFingerprint(taskId);
  await deps.tasks.index.markStoreExpired(taskId, new Date(now));
}

/**
 * Forgets scans completed more than `retention.history_days` ago (never sooner than their full
 * results): out of the search index and the history, fingerprint deleted.
 */
export async function expireHistory(deps: HousekeepingDeps, now = Date.now()): Promise<{ history_expired: number }> {
  const { completed_days, history_days } = deps.config().retention;
  const due = await deps.tasks.index.completedUpTo(now - Math.max(history_days, completed_days) * DAY_MS, BATCH_LIMIT);
  let removed = 0;
  for (const { task_id: taskId } of due) {
    if (!isValidTaskId(taskId)) continue;
    const fingerprints = await (await deps.files.findFingerprint(taskId))?.load();
    // Without its fingerprint the keys are unknown: the history entry goes, and readers skip
    // postings whose task has no history record.
    await deps.tasks.index.remove(taskId, fingerprints ? postingsOf(fingerprints) : { cves: [], plugins: [], hosts: [] });
    await deps.files.removeKeptFingerprint(taskId);
    removed += 1;
  }
  if (removed > 0) deps.logger.info({ history_expired: removed }, 'expired scan history');
  return { history_expired: removed };
}

async function removeJob(deps: HousekeepingDeps, pool: string, taskId: string): Promise<void> {
  try {
    await (await deps.scanQueue(pool).getJob(taskId))?.remove();
  } catch (error) {
    deps.logger.warn({ task_id: taskId, err: error instanceof Error ? error.message : String(error) }, 'could not remove the job of an expired task');
  }
}
