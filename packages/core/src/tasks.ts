import { randomBytes } from 'node:crypto';

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'timeout', 'cancelled']);

export const SCAN_TYPES = ['untrusted', 'trusted', 'privileged'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

/**
 * Allowed transitions. Terminal states have no exit, with one exception: a failed task whose job
 * is retried from the failed set (the dead-letter store) goes back to queued, or that retry
 * could never succeed.
 */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ['running', 'failed', 'cancelled', 'timeout'],
  running: ['running', 'completed', 'failed', 'timeout', 'cancelled', 'queued'],
  completed: [],
  failed: ['queued'],
  timeout: [],
  cancelled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** `{pool[:2]}_{instance[:4]}_{YYYYmmdd_HHMMSS}_{8 hex}`, e.g. `ne_scan_20251201_143022_a1b2c3d4`. */
export const TASK_ID_PATTERN = /^[a-z0-9-]{1,2}_[a-z0-9-]{1,4}_\d{8}_\d{6}_[0-9a-f]{8}$/;

export function isValidTaskId(value: string): boolean {
  return TASK_ID_PATTERN.test(value);
}

export function newTaskId(pool: string, instance: string, now: Date = new Date()): string {
  const iso = now.toISOString(); // 2025-12-01T14:30:22.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `${pool.slice(0, 2)}_${instance.slice(0, 4)}_${stamp}_${randomBytes(4).toString('hex')}`;
}

export interface SeverityBreakdown {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

export type AuthenticationStatus = 'success' | 'partial' | 'failed' | 'not_applicable';

/**
 * The figures of an ingested scan that `get_scan_status` reports. The task record holds them, so
 * a status call reads no file; the result store's `summary.json` is the full record
 * (`ResultSummary` in @nessus-mcp/results adds the scan's facts and the authentication evidence).
 */
export interface ResultFigures {
  hosts_scanned: number;
  /** Every ReportItem, informational ones included. */
  findings_total: number;
  /** Findings with severity >= 1. */
  total_vulnerabilities: number;
  severity_breakdown: SeverityBreakdown;
  /** Size of the raw export. */
  file_size_kb: number;
  authentication_status: AuthenticationStatus;
  /** Troubleshooting steps when authentication failed or was partial. */
  authentication_hints: string[];
}

export interface TaskError {
  code: string;
  message: string;
}

/** The task record both apps read and write (a Redis hash, one JSON-encoded value per field). */
export interface Task {
  task_id: string;
  trace_id: string;
  scan_type: ScanType;
  name: string;
  description: string | null;
  /** Target tokens as validated at submission (addresses, CIDRs, ranges, host names). */
  targets: string[];
  target_count: number;
  scanner_pool: string;
  /** The instance chosen at submission (pinned when the caller asked for one), then the one really used. */
  scanner_instance: string;
  instance_pinned: boolean;
  schema_profile: string;
  status: TaskStatus;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  error: TaskError | null;
  nessus_scan_id: string | null;
  raw_scanner_status: string | null;
  progress: number | null;
  has_credentials: boolean;
  idempotency_key_hash: string | null;
  cancel_requested: boolean;
  results_summary: ResultFigures | null;
}
