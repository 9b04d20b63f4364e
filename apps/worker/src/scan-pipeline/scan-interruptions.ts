/**
 * Reasons a scan stops before completing that are not failures: the pipeline throws them from
 * any step and the processor turns them into the matching terminal status.
 */
export class ScanCancelled extends Error {
  constructor() {
    super("scan cancelled at the caller's request");
    this.name = 'ScanCancelled';
  }
}

export class ScanTimedOut extends Error {
  constructor(readonly limitMinutes: number) {
    super(`scan exceeded its ${limitMinutes}-minute limit`);
    this.name = 'ScanTimedOut';
  }
}

/** Reason passed to `worker.cancelJob` so the processor knows an abort means "cancel". */
export const CANCEL_REASON = 'cancel_requested';

/** Wall clock from the task's start, never poll counts (poll intervals change with backoff, so a count measures no time). */
export function scanDeadline(startedAt: string | null | undefined, timeoutMinutes: number): number | null {
  if (!startedAt) return null;
  const started = Date.parse(startedAt);
  return Number.isFinite(started) ? started + timeoutMinutes * 60_000 : null;
}

/** The task reached a terminal status outside this job (cancelled while waiting, timed out by housekeeping). */
export class TaskAlreadyFinished extends Error {
  constructor(readonly status: 'completed' | 'failed' | 'timeout' | 'cancelled') {
    super(`task already ${status}`);
    this.name = 'TaskAlreadyFinished';
  }
}
