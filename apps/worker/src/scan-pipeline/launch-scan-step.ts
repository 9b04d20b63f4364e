import { isAppError } from '@nessus-mcp/core';
import type { ScanStatus } from '@nessus-mcp/scanners';
import { recordState, requireScanId, requireScanner, type ScanStepContext } from './scan-step-context.js';

/** Nessus reports a never-launched scan as `empty` (or no status at all). */
function wasLaunched(status: ScanStatus): boolean {
  return status.state !== 'queued' || !['', 'empty'].includes(status.rawStatus.trim().toLowerCase());
}

/**
 * Launches the recorded scan once. When an earlier run asked for the launch and died before
 * recording it, Nessus is asked whether the scan already left `empty` before launching again.
 */
export async function launchScan(ctx: ScanStepContext): Promise<void> {
  const scanner = requireScanner(ctx);
  const scanId = requireScanId(ctx);
  if (ctx.state.launch_requested_at && wasLaunched(await scanner.getStatus(scanId, ctx.signal))) {
    ctx.log.info({ nessus_scan_id: scanId }, 'the scan was already launched by an interrupted run');
    return recordState(ctx, { step: 'poll', launched_at: ctx.state.launch_requested_at });
  }
  await recordState(ctx, { step: 'launch', launch_requested_at: new Date().toISOString() });
  try {
    await scanner.launchScan(scanId, ctx.signal);
  } catch (error) {
    // 409: Nessus refuses to launch a scan that is already running, i.e. our earlier launch got through.
    if (!(isAppError(error) && error.code === 'conflict')) throw error;
  }
  ctx.log.info({ nessus_scan_id: scanId }, 'nessus scan launched');
  await recordState(ctx, { step: 'poll', launched_at: new Date().toISOString() });
}
