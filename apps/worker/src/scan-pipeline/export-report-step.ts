import { AppError, isAppError } from '@nessus-mcp/core';
import { recordState, requireScanId, requireScanner, type ScanStepContext } from './scan-step-context.js';

/**
 * Asks Nessus for a `.nessus` export and downloads it as the task's export. The export's file id
 * is recorded as soon as Nessus hands it out, so a retried step polls that export rather than
 * asking for another. The download goes to a staging file that becomes the export only once
 * complete, so an interrupted download leaves no partial report.
 */
export async function exportReport(ctx: ScanStepContext): Promise<void> {
  const scanner = requireScanner(ctx);
  const scanId = requireScanId(ctx);
  await ctx.job.updateProgress({ step: 'export', progress: 100, raw_status: ctx.state.raw_status ?? 'completed' });
  // A runaway export must not fill DATA_DIR for every other task: past the cap the download stops.
  const { max_export_mb } = ctx.deps.config().limits;
  let bytes: number;
  try {
    // A download the disk cannot hold is refused before it writes anything (and before the
    // scanner's own writes fail halfway with ENOSPC).
    const freeBytes = await ctx.deps.files.exportSpace();
    ({ bytes } = await ctx.deps.files.writeExport(ctx.taskId, (staging) =>
      scanner.exportReport(scanId, staging, {
        signal: ctx.signal,
        maxBytes: max_export_mb * 1024 * 1024,
        ...(freeBytes !== null ? { freeBytes } : {}),
        ...(ctx.state.export_file ? { resumeFile: ctx.state.export_file } : {}),
        onExportFile: (file) => recordState(ctx, { export_file: file }),
      }),
    ));
  } catch (error) {
    if (isAppError(error) && error.code === 'payload_too_large') {
      throw new AppError(
        'payload_too_large',
        `The Nessus export is larger than limits.max_export_mb (${max_export_mb} MB) in scanners.yaml; the download was stopped and removed. Split the targets into smaller scans or raise the limit.`,
        { details: { max_export_mb } },
      );
    }
    throw error;
  }
  ctx.log.info({ nessus_scan_id: scanId, bytes }, 'nessus export downloaded');
  await recordState(ctx, { step: 'ingest' });
}
