import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadStream } from 'node:fs';
import { AppError, type Task } from '@nessus-mcp/core';
import type { ResultPage } from '@nessus-mcp/results';
import type { ScanResultsInput } from '../schemas/tool-inputs.js';
import { REPORT_FILE } from './scan-status.js';
import { assertTaskId, taskDir, type ServiceContext } from './service-context.js';

function notReadyFor(task: Task): AppError {
  const progress = task.status === 'running' && task.progress !== null ? ` (${task.progress}% done)` : '';
  const hint =
    task.status === 'queued' || task.status === 'running'
      ? 'poll get_scan_status until it is completed'
      : task.status === 'completed'
        ? 'the worker is still ingesting the export; try again in a few seconds'
        : 'this scan has no results; submit a new one';
  return new AppError('not_ready', `results of task ${task.task_id} are not available: the task is ${task.status}${progress}; ${hint}`, {
    details: { task_id: task.task_id, status: task.status },
  });
}

/** JSON-NL lines of one results query (schema, scan_metadata, vulnerability..., pagination). */
export async function getScanResults(context: ServiceContext, input: ScanResultsInput): Promise<ResultPage> {
  assertTaskId(input.task_id);
  const task = await context.tasks.require(input.task_id);
  const { task_id: _taskId, ...query } = input;
  const metadata = { task_id: task.task_id, scan_name: task.name, scan_type: task.scan_type, targets: task.targets, started_at: task.started_at, completed_at: task.completed_at };
  try {
    // The task's default profile applies to a fresh query only: a cursor carries its own fields.
    const profile = query.schema_profile ?? (query.custom_fields || query.cursor ? undefined : task.schema_profile);
    return await context.results.query(taskDir(context, task.task_id), { ...query, schema_profile: profile }, metadata);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_ready') throw notReadyFor(task);
    throw error;
  }
}

export interface ReportDownload {
  stream: ReadStream;
  size: number;
  filename: string;
}

/** The raw `.nessus` export, opened for streaming (the file handle is opened before the response starts). */
export async function openReport(context: ServiceContext, taskId: string): Promise<ReportDownload> {
  assertTaskId(taskId);
  const task = await context.tasks.require(taskId);
  const path = join(taskDir(context, taskId), REPORT_FILE);
  try {
    const info = await stat(path);
    const handle = await open(path, 'r');
    return { stream: handle.createReadStream(), size: info.size, filename: `${taskId}.nessus` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notReadyFor(task);
    throw error;
  }
}
