import { scanDeadline } from '../scan-pipeline/scan-interruptions.js';
import { BATCH_LIMIT, type HousekeepingDeps } from './housekeeping-deps.js';

/**
 * Past this much beyond its deadline a running task's own job should have stopped it; if it has
 * not, the job is lost or wedged and housekeeping ends the scan instead.
 */
const GRACE_MS = 5 * 60_000;

/** Stops and marks `timeout` running tasks stuck past `scans.timeout_minutes` (wall clock from their start). */
export async function stopStuckScans(deps: HousekeepingDeps, now = Date.now()): Promise<{ timed_out: number }> {
  const { timeout_minutes } = deps.config().scans;
  const running = await deps.tasks.list({ status: 'running', limit: BATCH_LIMIT });
  let timedOut = 0;
  for (const task of running) {
    const deadline = scanDeadline(task.started_at, timeout_minutes);
    if (deadline === null || now < deadline + GRACE_MS) continue;
    const log = deps.logger.child({ task_id: task.task_id, trace_id: task.trace_id });
    if (task.nessus_scan_id) {
      try {
        await deps.registry().getScanner(task.scanner_pool, task.scanner_instance).stopScan(task.nessus_scan_id, AbortSignal.timeout(10_000));
      } catch (error) {
        log.warn(
          { nessus_scan_id: task.nessus_scan_id, err: error instanceof Error ? error.message : String(error) },
          'could not stop a stuck scan; marking it timeout anyway',
        );
      }
    }
    const { applied } = await deps.tasks.update(
      task.task_id,
      {
        status: 'timeout',
        completed_at: new Date(now).toISOString(),
        error: {
          code: 'timeout',
          message: `The scan was still running ${timeout_minutes} minutes after it started (scans.timeout_minutes) and was stopped by housekeeping.`,
        },
      },
      ['running'],
    );
    if (!applied) continue;
    timedOut += 1;
    await deps
      .registry()
      .release(task.scanner_pool, task.scanner_instance, task.task_id)
      .catch(() => false);
    // Wake a job parked between polls so it settles now instead of at its next poll.
    await (await deps.scanQueue(task.scanner_pool).getJob(task.task_id))?.promote().catch(() => undefined);
    log.warn({ nessus_scan_id: task.nessus_scan_id }, 'stuck scan stopped and marked timeout');
  }
  return { timed_out: timedOut };
}
