import type { ResultSummary } from '@nessus-mcp/results';
import type { ScanStepContext } from './scan-step-context.js';

/**
 * Builds the task's result store from the downloaded export (atomic: a rerun after a crash
 * replaces a half-built store) and returns the summary `get_scan_status` reports.
 */
export async function ingestResults(ctx: ScanStepContext): Promise<ResultSummary> {
  const { files } = ctx.deps;
  await ctx.job.updateProgress({ step: 'ingest', progress: 100, raw_status: ctx.state.raw_status ?? 'completed' });
  const started = performance.now();
  const summary = await ctx.deps.ingest({
    files,
    taskId: ctx.taskId,
    signal: ctx.signal,
    credentialed: ctx.job.data.scan_type !== 'untrusted',
  });
  const { metrics } = ctx.deps;
  metrics.ingestDuration.observe((performance.now() - started) / 1000);
  metrics.ingestBytes.inc((await files.exportSize(ctx.taskId)) ?? 0);
  metrics.ingestFindings.inc(summary.findings_total);
  ctx.log.info(
    { hosts_scanned: summary.hosts_scanned, total_vulnerabilities: summary.total_vulnerabilities, authentication_status: summary.authentication_status },
    'results ingested',
  );
  return summary;
}
