import { join } from 'node:path';
import { AppError, isValidTaskId } from '@nessus-mcp/core';

/**
 * `DATA_DIR/tasks/{task_id}`: the raw export and the result store. Every path is built here
 * and only from a task id that matches the id format, so no value read from Redis or a job can
 * point a file operation outside the tasks directory (the predecessor's defect 12).
 */
export function taskDirectory(dataDir: string, taskId: string): string {
  if (!isValidTaskId(taskId)) throw new AppError('invalid_argument', `refusing a file path for malformed task id '${taskId.slice(0, 80)}'`);
  return join(dataDir, 'tasks', taskId);
}

export function reportPath(dataDir: string, taskId: string): string {
  return join(taskDirectory(dataDir, taskId), 'report.nessus');
}

/**
 * `DATA_DIR/history/{task_id}.json`: a scan's fingerprint once retention deleted its task
 * directory, kept `retention.history_days` for compare_scans and search_findings.
 */
export function historyFingerprintPath(dataDir: string, taskId: string): string {
  if (!isValidTaskId(taskId)) throw new AppError('invalid_argument', `refusing a file path for malformed task id '${taskId.slice(0, 80)}'`);
  return join(dataDir, 'history', `${taskId}.json`);
}
