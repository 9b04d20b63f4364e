import type { ScanJobData, ScanJobProgressState } from '@nessus-mcp/core';

/**
 * What the job has recorded about its scan, in its own data (visible in Bull Board, never a
 * secret). Each step reads it first, so a job picked up again after a crash, a retry or a
 * restart continues the same Nessus scan. The `*_requested_at` marks are written before the
 * matching Nessus call: when present without the call's result, the call may or may not have
 * reached Nessus, and the step asks Nessus before acting again.
 */
export interface ScanJobState extends ScanJobProgressState {
  create_requested_at?: string;
  launch_requested_at?: string;
  /** The export file Nessus handed out; a retried export step polls it instead of asking again. */
  export_file?: string;
  /** Consecutive transient failures of the current step; reset by any step that succeeds. */
  failed_tries?: number;
}

export function readScanJobState(data: ScanJobData): ScanJobState {
  return { step: 'select', ...(data.state as ScanJobState | undefined) };
}
