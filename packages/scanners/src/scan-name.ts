import { AppError } from '@nessus-mcp/core/errors';

/**
 * Scans this system creates are named `[nmcp:<task_id>] <name>`. Housekeeping parses the task id
 * back so it only ever touches its own scans: a Nessus server is shared, and scans other people
 * created are theirs.
 */
const MARKER = /^\[nmcp:([A-Za-z0-9_-]{1,128})\] /;
const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Nessus shows long names truncated in its UI; keep the whole name readable there. */
const MAX_NAME_LENGTH = 200;

export function formatScanName(taskId: string, name: string): string {
  if (!TASK_ID.test(taskId)) {
    throw new AppError('invalid_argument', `task id '${taskId.slice(0, 140)}' may only contain letters, digits, '_' and '-'`);
  }
  const title = name.replace(/[\r\n\t]+/g, ' ').trim();
  return `[nmcp:${taskId}] ${title}`.slice(0, MAX_NAME_LENGTH);
}

/** The task id carried by a scan name, or null for scans this system did not create. */
export function parseTaskId(scanName: string): string | null {
  return MARKER.exec(scanName)?.[1] ?? null;
}
