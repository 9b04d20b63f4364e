import { mapNessusStatus } from '@nessus-mcp/scanners';
import type { HousekeepingDeps } from './housekeeping-deps.js';

/**
 * Deletes on Nessus the scans this system created (its folder, names tagged with a task id;
 * `listOwnScans` returns nothing else) whose task is gone or ended. Scans of failed tasks stay
 * until the task expires, so a retry from the failed set can resume them. Foreign scans are
 * never listed, let alone touched (the predecessor deleted every old scan on the server).
 */
export async function cleanNessusScans(deps: HousekeepingDeps): Promise<{ deleted: number; stopped: number; errors: number }> {
  const registry = deps.registry();
  let deleted = 0;
  let errors = 0;
  let stopped = 0;
  for (const instance of registry.instances()) {
    if (!instance.enabled) continue;
    const scanner = registry.getScanner(instance.poolName, instance.instanceId);
    const log = deps.logger.child({ scanner_pool: instance.poolName, scanner_instance: instance.instanceId });
    let scans;
    try {
      scans = await scanner.listOwnScans(AbortSignal.timeout(30_000));
    } catch (error) {
      errors += 1;
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not list this system\'s scans; skipping the instance this run');
      continue;
    }
    for (const scan of scans) {
      const task = await deps.tasks.get(scan.taskId);
      if (task && (task.status === 'queued' || task.status === 'running' || task.status === 'failed')) continue;
      try {
        // Nessus refuses to delete a running or stopping scan: stop it now, delete it next run.
        const state = mapNessusStatus(scan.rawStatus);
        if (state === 'running' || (state === 'queued' && scan.rawStatus !== 'empty')) {
          if (scan.rawStatus !== 'stopping') await scanner.stopScan(scan.scanId, AbortSignal.timeout(10_000));
          stopped += 1;
          continue;
        }
        await scanner.deleteScan(scan.scanId, AbortSignal.timeout(10_000));
        deleted += 1;
        log.info({ task_id: scan.taskId, nessus_scan_id: scan.scanId, task_status: task?.status ?? 'gone' }, 'deleted a finished scan on nessus');
      } catch (error) {
        errors += 1;
        log.warn({ task_id: scan.taskId, nessus_scan_id: scan.scanId, err: error instanceof Error ? error.message : String(error) }, 'could not delete a finished scan on nessus');
      }
    }
  }
  return { deleted, stopped, errors };
}
