import { AppError, anyTargetOverlaps, parseTarget, type Target } from '@nessus-mcp/core';
import type { ListTasksInput } from '../schemas/tool-inputs.js';
import type { TaskListOutput } from '../schemas/tool-outputs.js';
import type { ServiceContext } from './service-context.js';

export const DEFAULT_TASK_LIMIT = 20;

function parseTargetFilter(text: string): Target {
  try {
    return parseTarget(text);
  } catch (error) {
    if (error instanceof AppError) throw new AppError('invalid_argument', error.message.replace(/^targets: /, 'target: '), { details: { field: 'target' } });
    throw error;
  }
}

/** Newest first; the store keeps scanning until `limit` matches are found, so filters never shorten a page that has matches. */
export async function listTasks(context: ServiceContext, input: ListTasksInput): Promise<TaskListOutput> {
  const limit = input.limit ?? DEFAULT_TASK_LIMIT;
  const target = input.target === undefined ? undefined : parseTargetFilter(input.target);
  const tasks = await context.tasks.list({
    limit,
    ...(input.status ? { status: input.status } : {}),
    ...(input.scanner_pool ? { scanner_pool: input.scanner_pool } : {}),
    ...(target ? { match: (task) => anyTargetOverlaps(task.targets, target) } : {}),
  });
  return {
    tasks: tasks.map((task) => ({
      task_id: task.task_id,
      name: task.name,
      scan_type: task.scan_type,
      status: task.status,
      scanner_pool: task.scanner_pool,
      scanner_instance: task.scanner_instance,
      targets: task.targets,
      created_at: task.created_at,
      completed_at: task.completed_at,
      progress: task.status === 'completed' ? 100 : task.progress,
      total_vulnerabilities: task.results_summary?.total_vulnerabilities ?? null,
    })),
    count: tasks.length,
    limit,
  };
}
