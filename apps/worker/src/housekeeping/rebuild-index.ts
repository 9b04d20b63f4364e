import { isValidTaskId } from '@nessus-mcp/core';
import { postingsOf } from '@nessus-mcp/results';
import type { HousekeepingDeps } from './housekeeping-deps.js';

const BATCH = 500;

/**
 * Puts back into the cross-scan index every completed task that has a fingerprint with its
 * store but no index entry (an index lost with a Redis restored from an older snapshot, or
 * stores ingested before the index existed). Cheap when nothing is missing: one pipelined
 * lookup per 500 tasks.
 */
export async function rebuildFindingIndex(deps: HousekeepingDeps): Promise<{ reindexed: number }> {
  let reindexed = 0;
  for (let start = 0; ; start += BATCH) {
    const ids = (await deps.tasks.idsCreatedBefore(Date.now() + 1, start + BATCH)).slice(start);
    if (ids.length === 0) break;
    const statuses = await deps.tasks.statusesOf(ids);
    for (const taskId of ids) {
      if (statuses.get(taskId)?.status !== 'completed' || !isValidTaskId(taskId) || (await deps.tasks.index.isIndexed(taskId))) continue;
      const task = await deps.tasks.get(taskId);
      const fingerprints = await (await deps.files.findFingerprint(taskId))?.load();
      if (!task?.completed_at || !fingerprints) continue;
      const record = {
        task_id: taskId,
        name: task.name,
        scan_type: task.scan_type,
        targets: task.targets,
        created_at: task.created_at,
        completed_at: task.completed_at,
        hosts_scanned: task.results_summary?.hosts_scanned ?? fingerprints.hostIds.length,
        store_expired_at: null,
      };
      if (await deps.tasks.index.add(record, postingsOf(fingerprints))) reindexed += 1;
    }
    if (ids.length < BATCH) break;
  }
  if (reindexed > 0) deps.logger.info({ reindexed }, 'completed scans put back into the cross-scan index');
  return { reindexed };
}
