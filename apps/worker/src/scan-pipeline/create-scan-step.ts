import { openScanCredentials } from '@nessus-mcp/core';
import { recordState, requireScanner, type ScanStepContext } from './scan-step-context.js';

/**
 * Creates the Nessus scan and records its id in the job before anything else, so the launch
 * (and every later step) targets this scan. If an earlier run asked Nessus to create it and
 * died before recording the answer, the scan is looked up by the task id carried in its name
 * instead of being created twice.
 */
export async function createScan(ctx: ScanStepContext): Promise<void> {
  const scanner = requireScanner(ctx);
  if (ctx.state.create_requested_at) {
    const existing = (await scanner.listOwnScans(ctx.signal)).find((scan) => scan.taskId === ctx.taskId);
    if (existing) {
      ctx.log.info({ nessus_scan_id: existing.scanId }, 'found the scan an interrupted run created; continuing it');
      return recordScanId(ctx, existing.scanId);
    }
  }
  const { data } = ctx.job;
  // Decrypted only into the request being built: the clear text is never stored, logged or returned.
  const credentials = data.credentials ? openScanCredentials(ctx.deps.credentialsKey, data.credentials, data.task_id) : null;
  await recordState(ctx, { step: 'create', create_requested_at: new Date().toISOString() });
  const { scanId } = await scanner.createScan(
    {
      taskId: ctx.taskId,
      name: data.name,
      ...(data.description ? { description: data.description } : {}),
      targets: data.targets,
      scanType: data.scan_type,
      ...(credentials ? { credentials } : {}),
    },
    ctx.signal,
  );
  ctx.log.info({ nessus_scan_id: scanId }, 'nessus scan created');
  await recordScanId(ctx, scanId);
}

async function recordScanId(ctx: ScanStepContext, scanId: string): Promise<void> {
  await recordState(ctx, { step: 'launch', nessus_scan_id: scanId });
  await ctx.deps.tasks.update(ctx.taskId, { nessus_scan_id: scanId }, ['running']);
}
