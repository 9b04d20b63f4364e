import { mkdir } from 'node:fs/promises';
import { reportPath, taskDirectory } from '../task-files.js';
import { recordState, requireScanId, requireScanner, type ScanStepContext } from './scan-step-context.js';

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
  const { bytes } = await scanner.exportReport(scanId, reportPath(ctx.deps.dataDir, ctx.taskId), { signal: ctx.signal });
  ctx.log.info({ nessus_scan_id: scanId, bytes }, 'nessus export downloaded');
  await recordState(ctx, { step: 'ingest' });
}
