import { mkdir, statfs } from 'node:fs/promises';
import { AppError, isAppError } from '@nessus-mcp/core';
import { reportPath, taskDirectory } from '../task-files.js';
import { recordState, requireScanId, requireScanner, type ScanStepContext } from './scan-step-context.js';

/**
 * Free space for this download: half of what the file system gives unprivileged writers, the
 * other half left for the result store the ingest step builds from the same export.
 */
async function freeDiskBytes(ctx: ScanStepContext): Promise<number> {
  const fs = await statfs(ctx.deps.dataDir);
  return Math.floor((fs.bavail * fs.bsize) / 2);
}

/**
 * Asks Nessus for a `.nessus` export and downloads it to `DATA_DIR/tasks/{id}/report.nessus`.
 * The scanner writes a temporary file and renames it, so an interrupted download leaves no
 * partial report; a rerun simply exports again.
 */
export async function exportReport(ctx: ScanStepContext): Promise<void> {
  const scanner = requireScanner(ctx);
  const scanId = requireScanId(ctx);
  await mkdir(taskDirectory(ctx.deps.dataDir, ctx.taskId), { recursive: true });
  await ctx.job.updateProgress({ step: 'export', progress: 100, raw_status: ctx.state.raw_status ?? 'completed' });
  // A runaway export must not fill DATA_DIR for every other task: past the cap the download stops.
  const { max_export_mb } = ctx.deps.config().limits;
  let bytes: number;
  try {
    ({ bytes } = await scanner.exportReport(scanId, reportPath(ctx.deps.dataDir, ctx.taskId), { signal: ctx.signal, maxBytes: max_export_mb * 1024 * 1024, freeBytes: await freeDiskBytes(ctx) }));
  } catch (error) {
    if (isAppError(error) && error.code === 'payload_too_large') {
      throw new AppError('payload_too_large', `The Nessus export is larger than limits.max_export_mb (${max_export_mb} MB) in scanners.yaml; the download was stopped and removed. Split the targets into smaller scans or raise the limit.`, { details: { max_export_mb } });
    }
    throw error;
  }
  ctx.log.info({ nessus_scan_id: scanId, bytes }, 'nessus export downloaded');
  await recordState(ctx, { step: 'ingest' });
}
