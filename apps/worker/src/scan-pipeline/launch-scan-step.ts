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
    // Nessus answers a launch of a running scan 500 "Failed to launch scan. This is usually due to
    // the scan already running." (some servers and proxies: 409), and a 5xx or dropped connection
    // may hide a launch that got through. Nessus's own status decides: launched means done.
    if (!(isAppError(error) && (error.code === 'conflict' || (error.code === 'scanner_error' && error.retryable)))) throw error;
    if (!wasLaunched(await scanner.getStatus(scanId, ctx.signal))) throw error;
    ctx.log.info({ nessus_scan_id: scanId, err: error.message }, 'the launch answered an error but nessus reports the scan launched; continuing');
  }
  ctx.log.info({ nessus_scan_id: scanId }, 'nessus scan launched');
  await recordState(ctx, { step: 'poll', launched_at: new Date().toISOString() });
}
