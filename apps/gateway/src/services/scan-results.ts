import type { Readable } from 'node:stream';
import { AppError, type Task } from '@nessus-mcp/core';
import type { ResultPage, ResultStore } from '@nessus-mcp/results';
import type { ScanResultsInput } from '../schemas/tool-inputs.js';
import { assertTaskId, type ServiceContext } from './service-context.js';

/** `not_ready` for reading the results of a task that has none yet (or none at all), with what to do. */
export function notReadyFor(task: Task): AppError {
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
  const task = await context.settled.require(input.task_id);
  const { task_id: _taskId, ...query } = input;
  const metadata = {
    task_id: task.task_id,
    scan_name: task.name,
    scan_type: task.scan_type,
    targets: task.targets,
    started_at: task.started_at,
    completed_at: task.completed_at,
  };
  try {
    // The task's default profile applies to a fresh query only: a cursor carries its own fields.
    const profile = query.schema_profile ?? (query.custom_fields || query.cursor ? undefined : task.schema_profile);
    return await context.results.query(await context.files.resultStoreDirectory(task.task_id), { ...query, schema_profile: profile }, metadata);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_ready') throw notReadyFor(task);
    throw error;
  }
}

/** The task and its opened result store; `not_ready` (with what to do) until the export is ingested. */
export async function openTaskStore(context: ServiceContext, taskId: string): Promise<{ task: Task; store: ResultStore }> {
  assertTaskId(taskId);
  const task = await context.settled.require(taskId);
  try {
    return { task, store: await context.results.open(await context.files.resultStoreDirectory(taskId)) };
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_ready') throw notReadyFor(task);
    throw error;
  }
}

export interface ReportDownload {
  stream: Readable;
  size: number;
  filename: string;
}

/**
 * The raw `.nessus` export, opened for streaming (opened before the response starts, so a
 * missing export is a clean `not_ready` rather than a cut-off download). The REST download and
 * the MCP report resource both read it here.
 */
export async function openReport(context: ServiceContext, taskId: string): Promise<ReportDownload> {
  assertTaskId(taskId);
  const task = await context.settled.require(taskId);
  const opened = await context.files.openExport(taskId);
  if (!opened) throw notReadyFor(task);
  return { ...opened, filename: `${taskId}.nessus` };
}
