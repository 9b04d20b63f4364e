import type { TaskViewOutput } from '../schemas/tool-outputs.js';
import { assertTaskId, type CallContext, type ServiceContext } from './service-context.js';
import { buildTaskView } from './task-view.js';

export async function getScanStatus(context: ServiceContext, taskId: string, call: CallContext): Promise<TaskViewOutput> {
  assertTaskId(taskId);
  return buildTaskView(context, await context.settled.require(taskId), call);
}
