import type { HistoryRecord, TaskPostings } from '@nessus-mcp/core';
import { postingsOf, type ResultSummary } from '@nessus-mcp/results';
import type { ScanStepContext } from './scan-step-context.js';

/**
 * The history record and search-index keys of a scan about to complete, from the fingerprint
 * the ingest wrote with the store; undefined when there is none (an ingest that wrote no
 * fingerprint leaves the task out of cross-scan answers, it does not block completion).
 */
export async function historyEntryOf(
  ctx: ScanStepContext,
  completedAt: Date,
  summary: ResultSummary,
): Promise<{ record: HistoryRecord; postings: TaskPostings } | undefined> {
  const fingerprints = await (await ctx.deps.files.findFingerprint(ctx.taskId))?.load();
  if (!fingerprints) {
    ctx.log.warn('no scan fingerprint with the result store; the scan stays out of compare_scans and search_findings');
    return undefined;
  }
  const { task } = ctx;
  return {
    record: {
      task_id: ctx.taskId,
      name: task.name,
      scan_type: task.scan_type,
      targets: task.targets,
      created_at: task.created_at,
      completed_at: completedAt.toISOString(),
      hosts_scanned: summary.hosts_scanned,
      store_expired_at: null,
    },
    postings: postingsOf(fingerprints),
  };
}
