import { groupFindings } from '@nessus-mcp/results';
import { compileFilters } from '@nessus-mcp/schema';
import { DEFAULT_SUMMARY_TOP, type SummarizeInput } from '../schemas/tool-inputs.js';
import type { SummaryOutput } from '../schemas/tool-outputs.js';
import { openTaskStore } from './scan-results.js';
import type { ServiceContext } from './service-context.js';

/**
 * `summarize_findings`: counts of the findings the filters keep, per group, from the result
 * store's columns (the export is never parsed again). Filters are checked before the store is
 * opened, so a typo is `invalid_argument` even while the scan runs.
 */
export async function summarizeFindings(context: ServiceContext, input: SummarizeInput): Promise<SummaryOutput> {
  const filters = compileFilters(input.filters);
  const { task, store } = await openTaskStore(context, input.task_id);
  const grouped = await groupFindings(store, filters, input.group_by, { top: input.top ?? DEFAULT_SUMMARY_TOP });
  return {
    task_id: task.task_id,
    group_by: grouped.group_by,
    filters_applied: filters.normalised,
    total_findings: grouped.total_findings,
    total_groups: grouped.total_groups,
    groups: grouped.groups,
  };
}
