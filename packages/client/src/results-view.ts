import { formatTable } from './text-table.js';
import type { ResultsPage, ScanStatus, ScanSubmission, SeverityBreakdown, TaskSummary, Vulnerability } from './types.js';

/*
 * How the CLI shows things to a person. Scripts use `--json` instead, so this text may change
 * between versions; the JSON may not.
 */

export const SEVERITY_NAMES = ['info', 'low', 'medium', 'high', 'critical'] as const;
const BREAKDOWN_KEYS: readonly (keyof SeverityBreakdown)[] = ['critical', 'high', 'medium', 'low', 'info'];

export function severityName(severity: unknown): string {
  return typeof severity === 'number' ? (SEVERITY_NAMES[severity] ?? String(severity)) : '?';
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(String).join(', ');
  return String(value);
}

/**
 * Findings per severity, most severe first: the whole scan's counts (from the metadata line or the
 * status summary) and, when `listed` is given, beside them the findings listed here (this page, or
 * every page with `--all`).
 */
export function severityTable(scanTotals: SeverityBreakdown | undefined, listed?: readonly Vulnerability[]): string {
  const shown: Record<string, number> = {};
  for (const finding of listed ?? []) {
    const name = severityName(finding.severity);
    shown[name] = (shown[name] ?? 0) + 1;
  }
  const total = scanTotals ? BREAKDOWN_KEYS.reduce((sum, key) => sum + scanTotals[key], 0) : null;
  const rows = [
    ...BREAKDOWN_KEYS.map((key) => [key, scanTotals ? String(scanTotals[key]) : '', String(shown[key] ?? 0)]),
    ['total', total === null ? '' : String(total), String(listed?.length ?? 0)],
  ];
  const columns = [{ header: 'SEVERITY' }, { header: 'IN SCAN', align: 'right' as const }];
  if (!listed)
    return formatTable(
      columns,
      rows.map((r) => r.slice(0, 2)),
    );
  return formatTable([...columns, { header: 'LISTED', align: 'right' as const }], rows);
}

export function findingsTable(findings: readonly Vulnerability[], width: number): string {
  const nameWidth = Math.max(20, width - 62);
  return formatTable(
    [
      { header: 'SEVERITY' },
      { header: 'HOST', maxWidth: 28 },
      { header: 'PORT', align: 'right' },
      { header: 'PLUGIN', align: 'right' },
      { header: 'NAME', maxWidth: nameWidth },
    ],
    findings.map((f) => [
      severityName(f.severity),
      text(f.host),
      f.port === undefined ? '' : `${f.port}/${text(f.protocol)}`,
      text(f.plugin_id),
      text(f.plugin_name ?? f.finding_id),
    ]),
  );
}

export interface ResultsViewOptions {
  taskId: string;
  width: number;
  /** Every page was fetched (`--all`). */
  all: boolean;
}

export function formatResults(page: ResultsPage, options: ResultsViewOptions): string {
  const { schema, metadata, vulnerabilities, pagination } = page;
  const name = metadata.scan_name ? `${metadata.scan_name} (${options.taskId})` : options.taskId;
  const filters = Object.keys(schema.filters_applied).length > 0 ? `, filters ${JSON.stringify(schema.filters_applied)}` : '';
  const lines = [`Scan ${name}: ${schema.total_vulnerabilities} matching finding(s)${filters}`];
  if (metadata.hosts_scanned !== undefined) lines.push(`Hosts scanned: ${metadata.hosts_scanned}`);
  lines.push('', severityTable(metadata.severity_breakdown, vulnerabilities), '');
  lines.push(vulnerabilities.length > 0 ? findingsTable(vulnerabilities, options.width) : '(no findings on this page)');
  if (!options.all && pagination) {
    const next = pagination.has_next && pagination.next_page !== null ? ` — next: nessus-mcp results ${options.taskId} --page ${pagination.next_page}` : '';
    lines.push('', `Page ${pagination.page} of ${pagination.total_pages}${next}`);
  }
  return lines.join('\n');
}

function row(label: string, value: unknown): string | null {
  const shown = text(value);
  return shown === '' ? null : `${`${label}:`.padEnd(16)}${shown}`;
}

export function formatStatus(status: ScanStatus): string {
  const lines = [
    row('Task', status.task_id),
    row('Status', status.status),
    row('Progress', typeof status.progress === 'number' && status.status === 'running' ? `${Math.round(status.progress)}%` : null),
    row('Queue position', status.status === 'queued' ? status.queue_position : null),
    row('Name', status.name),
    row('Type', status.scan_type),
    row('Targets', status.targets),
    row('Scanner', status.scanner_pool && status.scanner_instance ? `${status.scanner_pool}/${status.scanner_instance}` : status.scanner_pool),
    row('Created', status.created_at),
    row('Started', status.started_at),
    row('Completed', status.completed_at),
    row('Error', status.error ? `${status.error.message} (${status.error.code})` : null),
    row('Authentication', status.results_summary?.authentication_status ?? status.authentication_status),
  ].filter((line): line is string => line !== null);
  const summary = status.results_summary;
  if (summary) {
    lines.push(row('Hosts scanned', summary.hosts_scanned) ?? '', row('Findings', `${summary.total_vulnerabilities} (severity low and above)`) ?? '');
    lines.push('', severityTable(summary.severity_breakdown));
  }
  return lines.join('\n');
}

export function formatSubmission(submission: ScanSubmission): string {
  const where = submission.scanner_pool ? ` on ${submission.scanner_pool}${submission.scanner_instance ? `/${submission.scanner_instance}` : ''}` : '';
  const position = typeof submission.queue_position === 'number' ? `, queue position ${submission.queue_position}` : '';
  const wait = typeof submission.estimated_wait_minutes === 'number' ? `, about ${submission.estimated_wait_minutes} min wait` : '';
  return `Task ${submission.task_id} ${submission.status}${where}${position}${wait}`;
}

export function tasksTable(tasks: readonly TaskSummary[]): string {
  if (tasks.length === 0) return '(no tasks)';
  return formatTable(
    [
      { header: 'TASK ID' },
      { header: 'STATUS' },
      { header: 'TYPE' },
      { header: 'NAME', maxWidth: 30 },
      { header: 'TARGETS', maxWidth: 30 },
      { header: 'CREATED' },
    ],
    tasks.map((t) => [
      t.task_id,
      t.status === 'running' && typeof t.progress === 'number' ? `running ${Math.round(t.progress)}%` : t.status,
      text(t.scan_type),
      text(t.name),
      text(t.targets),
      text(t.created_at),
    ]),
  );
}
