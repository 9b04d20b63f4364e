import { AppError } from '@nessus-mcp/core';
import type { FindingInput } from '../schemas/tool-inputs.js';
import type { FindingOutput } from '../schemas/tool-outputs.js';
import { openTaskStore } from './scan-results.js';
import type { ServiceContext } from './service-context.js';

/**
 * Plugin output beyond this is cut: some plugins list every installed package (hundreds of
 * kilobytes), which no answer to an agent should carry whole. About 2,500 tokens.
 */
export const MAX_PLUGIN_OUTPUT_CHARS = 10_000;

/** `get_finding`: one finding with every field, its plugin output bounded and marked when cut. */
export async function getFinding(context: ServiceContext, input: FindingInput): Promise<FindingOutput> {
  const { task, store } = await openTaskStore(context, input.task_id);
  const row = await store.rowOf(input.finding_id);
  if (row === null) {
    throw new AppError('not_found', `task ${task.task_id} has no finding ${input.finding_id}; take finding_id from a get_scan_results line of this task`, {
      details: { task_id: task.task_id, finding_id: input.finding_id },
    });
  }
  const [finding] = await store.findings([row]);
  if (!finding) throw new AppError('internal', `result store row ${row} is missing`);
  const output = typeof finding.plugin_output === 'string' ? finding.plugin_output : null;
  if (output === null || output.length <= MAX_PLUGIN_OUTPUT_CHARS) return { task_id: task.task_id, finding: { ...finding }, plugin_output_truncated: null };
  // Never split a surrogate pair: the cut would leave half a character.
  const end = /[\uD800-\uDBFF]/.test(output.charAt(MAX_PLUGIN_OUTPUT_CHARS - 1)) ? MAX_PLUGIN_OUTPUT_CHARS - 1 : MAX_PLUGIN_OUTPUT_CHARS;
  const shown = output.slice(0, end);
  const marker = `\n[… truncated: ${end} of ${output.length} characters shown; GET /api/v1/tasks/${task.task_id}/report.nessus has the full text]`;
  return {
    task_id: task.task_id,
    finding: { ...finding, plugin_output: shown + marker },
    plugin_output_truncated: { shown_chars: end, total_chars: output.length },
  };
}
