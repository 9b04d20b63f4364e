import { isAppError } from '@nessus-mcp/core';
import { mapNessusStatus, type Scanner } from '@nessus-mcp/scanners';
import type { HousekeepingDeps } from './housekeeping-deps.js';

/**
 * Deletes on Nessus the scans this system created (its folder, names tagged with a task id;
 * `listOwnScans` returns nothing else) whose task is gone or ended. Scans of failed tasks stay
 * until the task expires, so a retry from the failed set can resume them. Foreign scans are
 * never listed, let alone touched: deleting every old scan on a shared Nessus would destroy other teams' work.
 */
export async function cleanNessusScans(deps: HousekeepingDeps): Promise<{ deleted: number; stopped: number; held: number; errors: number }> {
  const registry = deps.registry();
  let deleted = 0;
  let errors = 0;
  let stopped = 0;
  let held = 0;
  for (const instance of registry.instances()) {
    if (!instance.enabled) continue;
    const scanner = registry.getScanner(instance.poolName, instance.instanceId);
    const log = deps.logger.child({ scanner_pool: instance.poolName, scanner_instance: instance.instanceId });
    let scans;
    try {
      scans = await scanner.listOwnScans(AbortSignal.timeout(30_000));
    } catch (error) {
      errors += 1;
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not list this system's scans; skipping the instance this run");
      continue;
    }
    let heldHere = 0;
    for (const scan of scans) {
      const task = await deps.tasks.get(scan.taskId);
      if (task && (task.status === 'queued' || task.status === 'running' || task.status === 'failed')) continue;
      const context = { task_id: scan.taskId, nessus_scan_id: scan.scanId, task_status: task?.status ?? 'gone' };
      try {
        // A scan a person paused in the Nessus UI refuses both stop (409) and delete (500): asking
        // again every run changes nothing, so it is reported for a person to resume or stop.
        if (scan.rawStatus === 'paused') {
          heldHere += 1;
          log.warn(
            context,
            "a finished task's scan is paused in Nessus, which refuses to stop or delete it; resume or stop it in the Nessus UI so housekeeping can delete it",
          );
          continue;
        }
        // Nessus refuses to delete a running or stopping scan: stop it now, delete it next run.
        const state = mapNessusStatus(scan.rawStatus);
        if (state === 'running' || (state === 'queued' && scan.rawStatus !== 'empty')) {
          await stopUnlessStopping(scanner, scan.scanId, scan.rawStatus);
          stopped += 1;
          continue;
        }
        if (await deleteOrStop(scanner, scan.scanId)) {
          deleted += 1;
          log.info(context, 'deleted a finished scan on nessus');
        } else {
          stopped += 1;
          log.info(context, 'the scan was running again when deleted; stopped it, to delete it next run');
        }
      } catch (error) {
        errors += 1;
        log.warn({ ...context, err: error instanceof Error ? error.message : String(error) }, 'could not delete a finished scan on nessus');
      }
    }
    held += heldHere;
    deps.metrics?.nessusScansHeld.set({ instance: instance.instanceId }, heldHere);
  }
  return { deleted, stopped, held, errors };
}

/**
 * Deletes a scan; returns false when Nessus refused because it is active after all (real servers
 * answer 500 "Failed to delete the scan...", not 409) and it was stopped instead.
 */
async function deleteOrStop(scanner: Scanner, scanId: string): Promise<boolean> {
  try {
    await scanner.deleteScan(scanId, AbortSignal.timeout(10_000));
    return true;
  } catch (error) {
    if (!isAppError(error) || !(error.code === 'conflict' || error.details?.status === 500)) throw error;
    const status = await scanner.getStatus(scanId, AbortSignal.timeout(10_000));
    if (status.state !== 'running' && status.state !== 'queued') throw error;
    await stopUnlessStopping(scanner, scanId, status.rawStatus);
    return false;
  }
}

/** Nessus refuses to delete an active scan: stop it now (unless already stopping), delete it next run. */
async function stopUnlessStopping(scanner: Scanner, scanId: string, rawStatus: string): Promise<void> {
  if (rawStatus !== 'stopping') await scanner.stopScan(scanId, AbortSignal.timeout(10_000));
}
