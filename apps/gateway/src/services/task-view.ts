import { type AuthenticationStatus, type Task } from '@nessus-mcp/core';
import type { TaskViewOutput } from '../schemas/tool-outputs.js';
import { describeQueued } from './queue-estimate.js';
import type { CallContext, ServiceContext } from './service-context.js';

export function statusResourceUri(taskId: string): string {
  return `nessus://tasks/${taskId}`;
}

export function reportResourceUri(taskId: string): string {
  return `nessus://tasks/${taskId}/report.nessus`;
}

/** The human-readable report of a task's results (REST, same auth; browsers use Basic). */
export function reportHtmlPath(taskId: string): string {
  return `/api/v1/tasks/${taskId}/report.html`;
}

export interface TaskRestLinks {
  report_html: string | null;
  results: string | null;
  results_csv: string | null;
  report_nessus: string | null;
}

/**
 * REST paths of a task's downloads, null until they exist: findings (JSON-NL, CSV) and the raw
 * export are there once the export was ingested, which a failed credentialed scan may also have.
 */
export function taskRestLinks(view: TaskViewOutput): TaskRestLinks {
  const base = `/api/v1/tasks/${encodeURIComponent(view.task_id)}`;
  const ingested = view.results_summary !== null;
  return {
    ...view.links,
    results: ingested ? `${base}/results` : null,
    results_csv: ingested ? `${base}/results.csv` : null,
    report_nessus: view.resources.report === null ? null : `${base}/report.nessus`,
  };
}

/** Generic hints when the ingest found none of its own. */
const AUTH_HINTS: Record<'failed' | 'partial', string[]> = {
  failed: [
    'Check ssh_username and the password or private key: try `ssh user@target` from the scanner host.',
    'Make sure TCP port 22 (or ssh_port) on the targets is reachable from the scanner (firewalls, security groups).',
    'For key authentication, the public key must be in ~/.ssh/authorized_keys of that user and the key passphrase must be right.',
    'Nessus plugin 19506 (Nessus Scan Information) in the results shows "Credentialed checks : no" with the reason per host.',
  ],
  partial: [
    'The login worked on some hosts only, or lacked privileges: look for plugin 110385 (Insufficient Privilege) in the results.',
    'For privileged scans check elevate_privileges_with, the escalation password and sudoers (requiretty, NOPASSWD) on the failing hosts.',
  ],
};

interface LiveProgress {
  progress: number;
  raw_status: string;
}

/**
 * The one moment the gateway talks to Nessus during a request: a short-timeout read of a running
 * scan's progress. Any failure or a slow scanner falls back to what the worker last recorded.
 */
async function liveProgress(context: ServiceContext, task: Task, call: CallContext): Promise<LiveProgress | null> {
  if (task.status !== 'running' || !task.nessus_scan_id) return null;
  const signal = AbortSignal.timeout(context.liveProgressTimeoutMs);
  try {
    const scanner = context.setup().fleet.getScanner(task.scanner_pool, task.scanner_instance);
    const status = await scanner.getStatus(task.nessus_scan_id, signal);
    return { progress: Math.round(status.progress), raw_status: status.rawStatus };
  } catch (error) {
    call.logger.debug(
      { task_id: task.task_id, err: error instanceof Error ? error.message : String(error) },
      'live progress unavailable; using the recorded one',
    );
    return null;
  }
}

function nextStep(task: Task): string {
  switch (task.status) {
    case 'queued':
      return 'Waiting for a scanner slot; poll get_scan_status again in a minute (or cancel_scan).';
    case 'running':
      return 'Scanning; poll get_scan_status again in a minute or two.';
    case 'completed':
      return `Read the findings with get_scan_results(task_id="${task.task_id}", filters={"severity": ">=3"}) for high and critical first.`;
    case 'failed':
      if (task.error?.code === 'authentication_failed') {
        return `Fix the SSH credentials (see troubleshooting) and submit a new scan; get_scan_results(task_id="${task.task_id}") shows what the unauthenticated checks found.`;
      }
      return 'The scan did not finish; see error, fix the cause and submit a new scan.';
    case 'timeout':
      return 'The scan did not finish; see error, fix the cause and submit a new scan.';
    case 'cancelled':
      return 'The scan was cancelled; submit a new one if needed.';
  }
}

export async function buildTaskView(context: ServiceContext, task: Task, call: CallContext): Promise<TaskViewOutput> {
  const [queued, live] = await Promise.all([describeQueued(context, task), liveProgress(context, task, call)]);
  // Everything below comes from the task record: a status call (agents poll it) reads no file.
  const summary = task.results_summary;
  let authentication: AuthenticationStatus | null = null;
  let troubleshooting: string[] = [];
  // A failed credentialed scan (SSH login refused everywhere) still has results and its evidence.
  if (task.status === 'completed' || (task.status === 'failed' && summary)) {
    authentication = summary?.authentication_status ?? (task.has_credentials ? null : 'not_applicable');
    troubleshooting = summary?.authentication_hints ?? [];
    if (troubleshooting.length === 0 && (authentication === 'failed' || authentication === 'partial')) troubleshooting = AUTH_HINTS[authentication];
  }
  if ((task.status === 'failed' || task.status === 'timeout') && task.error) {
    troubleshooting = [...troubleshooting, `${task.error.code}: ${task.error.message}`];
  }
  const progress = live?.progress ?? (task.status === 'completed' ? 100 : task.progress);
  return {
    task_id: task.task_id,
    trace_id: task.trace_id,
    name: task.name,
    description: task.description,
    scan_type: task.scan_type,
    status: task.status,
    scanner_pool: task.scanner_pool,
    scanner_instance: task.scanner_instance,
    targets: task.targets,
    target_count: task.target_count,
    created_at: task.created_at,
    updated_at: task.updated_at,
    started_at: task.started_at,
    completed_at: task.completed_at,
    progress,
    progress_source: live ? 'scanner' : progress === null ? 'none' : 'worker',
    raw_scanner_status: live?.raw_status ?? task.raw_scanner_status,
    queue_position: queued.queue_position,
    estimated_wait_minutes: queued.estimated_wait_minutes,
    cancel_requested: task.cancel_requested,
    error: task.error,
    results_summary: summary
      ? {
          hosts_scanned: summary.hosts_scanned,
          total_vulnerabilities: summary.total_vulnerabilities,
          severity_breakdown: summary.severity_breakdown,
          file_size_kb: summary.file_size_kb,
        }
      : null,
    authentication_status: authentication,
    troubleshooting,
    next_step: nextStep(task),
    // Figures exist only once the export was ingested, and the export stays until the task expires.
    links: { report_html: summary ? reportHtmlPath(task.task_id) : null },
    resources: { status: statusResourceUri(task.task_id), report: summary ? reportResourceUri(task.task_id) : null },
  };
}
