import type { Task } from '@nessus-mcp/core';
import type { TaskViewOutput } from '../schemas/tool-outputs.js';
import { assertTaskId, type CallContext, type ServiceContext } from './service-context.js';
import { isSettled } from './settled-tasks.js';
import { buildTaskView } from './task-view.js';

/**
 * Views of settled tasks, by record. Such a view depends on the record alone (no queue position,
 * no live progress), and `SettledTasks` hands out the same record object for a few seconds, so
 * agents polling a finished scan get a view built once per record rather than once per call.
 * Keyed weakly: a view goes when its record leaves the cache. The view is frozen: it is shared
 * by every caller, and output layers may keep work done on it by its identity (build-mcp-server).
 */
const settledViews = new WeakMap<Task, TaskViewOutput>();

export async function getScanStatus(context: ServiceContext, taskId: string, call: CallContext): Promise<TaskViewOutput> {
  assertTaskId(taskId);
  const task = await context.settled.require(taskId);
  const kept = settledViews.get(task);
  if (kept !== undefined) return kept;
  const view = await buildTaskView(context, task, call);
  if (!isSettled(task.status)) return view;
  const shared = Object.freeze(view);
  settledViews.set(task, shared);
  return shared;
}
