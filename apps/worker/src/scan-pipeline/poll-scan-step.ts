import { AppError } from '@nessus-mcp/core';
import { delayJobUntil, recordState, requireScanId, requireScanner, type ScanStepContext } from './scan-step-context.js';
import { ScanTimedOut, scanDeadline } from './scan-interruptions.js';

/**
 * Next poll after a tenth of the scan's age, within [poll_min_ms, poll_max_ms]: a young scan is
 * checked often, a day-long one about every poll_max_ms, sparing Nessus's API.
 */
export function nextPollDelay(ageMs: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, Math.max(minMs, ageMs / 10));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/**
 * One status check. While Nessus still runs the scan the job parks in the delayed set until the
 * next check (no worker slot held, nothing lost on a restart); once Nessus reports completed the
 * pipeline moves on to the export. With the scan watcher on, the scan is handed to it and the
 * job parks for the watcher's long fallback interval: the watcher wakes it when the scan ends.
 */
export async function pollScan(ctx: ScanStepContext): Promise<void> {
  const scanner = requireScanner(ctx);
  const scanId = requireScanId(ctx);
  const status = await scanner.getStatus(scanId, ctx.signal);
  const { watcher } = ctx.deps;
  if (watcher && ['completed', 'cancelled', 'failed'].includes(status.state)) watcher.unwatch(ctx.taskId);
  const polls = (ctx.state.polls ?? 0) + 1;
  await ctx.job.updateProgress({ step: 'poll', progress: status.progress, raw_status: status.rawStatus, polls });
  await ctx.deps.tasks.update(ctx.taskId, { progress: status.progress, raw_scanner_status: status.rawStatus }, ['running']);
  if (status.rawStatus === 'paused' && ctx.state.raw_status !== 'paused') {
    ctx.log.warn({ nessus_scan_id: scanId }, 'a person paused this scan in Nessus; the task waits for it to be resumed, within its time limit');
  }
  switch (status.state) {
    case 'completed':
      ctx.log.info({ nessus_scan_id: scanId, polls }, 'nessus scan completed');
      return recordState(ctx, { step: 'export', polls, raw_status: status.rawStatus, progress: 100 });
    case 'cancelled':
      throw new AppError(
        'scanner_error',
        `Nessus scan ${scanId} on '${ctx.state.instance_id}' was stopped outside this system (status '${status.rawStatus}'); retry the job from the failed set (Bull Board) to relaunch it.`,
      );
    case 'failed':
      throw new AppError(
        'scanner_error',
        `Nessus ended scan ${scanId} on '${ctx.state.instance_id}' with status '${status.rawStatus}' (the scanner aborted it; its logs say why); retry the job from the failed set (Bull Board) to relaunch it.`,
      );
    default:
      break;
  }
  const { timeout_minutes, poll_min_ms, poll_max_ms } = ctx.deps.config().scans;
  const deadline = scanDeadline(ctx.task.started_at ?? ctx.state.started_at, timeout_minutes);
  if (deadline !== null && Date.now() >= deadline) throw new ScanTimedOut(timeout_minutes);
  await recordState(ctx, { polls, raw_status: status.rawStatus, progress: status.progress, failed_tries: 0 });
  const launchedAt = Date.parse(ctx.state.launched_at ?? '') || Date.now();
  let next = Date.now() + nextPollDelay(Date.now() - launchedAt, poll_min_ms, poll_max_ms);
  if (watcher && ctx.state.instance_id) {
    watcher.watch({ pool: ctx.pool, instanceId: ctx.state.instance_id, scanId, taskId: ctx.taskId, rawStatus: status.rawStatus });
    next = Date.now() + watcher.fallbackPollMs;
  }
  return delayJobUntil(ctx, deadline === null ? next : Math.min(next, deadline));
}
