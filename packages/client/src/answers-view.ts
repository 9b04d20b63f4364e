import { severityName } from './results-view.js';
import { formatTable } from './text-table.js';
import type { FindingDetail, FindingSummary } from './types.js';

function riskText(group: FindingSummary['groups'][number]): string {
  const risk = group.max_risk;
  if (!risk) return '';
  const parts: string[] = [];
  if (risk.cisa_known_exploited) parts.push(`KEV ${risk.cisa_known_exploited}`);
  if (risk.exploit_available) parts.push('exploit');
  if (typeof risk.epss_score === 'number') parts.push(`EPSS ${risk.epss_score.toFixed(3)}`);
  if (typeof risk.vpr_score === 'number') parts.push(`VPR ${risk.vpr_score.toFixed(1)}`);
  return parts.join(', ');
}

/** `nessus-mcp summary`: one row per group, largest first, and what was left out. */
export function formatSummary(summary: FindingSummary, width: number): string {
  const label = summary.group_by === 'severity' || summary.group_by === 'plugin_family';
  const keyWidth = summary.group_by === 'solution' ? Math.max(30, width - 75) : 40;
  const columns = [
    { header: summary.group_by.toUpperCase(), maxWidth: keyWidth },
    ...(label ? [] : [{ header: 'LABEL', maxWidth: 40 }]),
    { header: 'FINDINGS', align: 'right' as const },
    { header: 'HOSTS', align: 'right' as const },
    { header: 'WORST' },
    { header: 'RISK' },
  ];
  const rows = summary.groups.map((group) => [
    String(group.key),
    ...(label ? [] : [group.label]),
    String(group.count),
    String(group.hosts),
    severityName(group.max_severity),
    riskText(group),
  ]);
  const filters = Object.keys(summary.filters_applied).length > 0 ? ` matching ${JSON.stringify(summary.filters_applied)}` : '';
  const shown = summary.groups.length < summary.total_groups ? `, top ${summary.groups.length} of ${summary.total_groups} groups shown` : '';
  return `${summary.total_findings} findings${filters} of task ${summary.task_id} by ${summary.group_by}${shown}\n\n${formatTable(columns, rows)}`;
}

const HEAD_FIELDS = [
  'finding_id',
  'host',
  'host_ip',
  'host_fqdn',
  'port',
  'protocol',
  'svc_name',
  'plugin_id',
  'plugin_name',
  'plugin_family',
  'severity',
  'risk_factor',
  'cisa_known_exploited',
  'epss_score',
  'vpr_score',
  'cvss3_base_score',
  'cvss_base_score',
  'exploit_available',
  'cve',
];
const TEXT_FIELDS = ['synopsis', 'description', 'solution', 'plugin_output'];

/** `nessus-mcp finding`: the identifying fields, then the long texts as paragraphs. */
export function formatFinding(detail: FindingDetail): string {
  const finding = detail.finding;
  const lines: string[] = [];
  for (const field of HEAD_FIELDS) {
    const value = finding[field];
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    const text = field === 'severity' ? `${String(value)} (${severityName(value)})` : Array.isArray(value) ? value.join(', ') : String(value);
    lines.push(`${field.padEnd(21)} ${text}`);
  }
  for (const field of TEXT_FIELDS) {
    const value = finding[field];
    if (typeof value === 'string' && value.trim() !== '') lines.push('', `${field}:`, value.replace(/^\n+|\n+$/g, ''));
  }
  if (detail.plugin_output_truncated)
    lines.push('', `(plugin output cut: ${detail.plugin_output_truncated.shown_chars} of ${detail.plugin_output_truncated.total_chars} characters shown)`);
  const other = Object.keys(finding).filter((field) => !HEAD_FIELDS.includes(field) && !TEXT_FIELDS.includes(field));
  if (other.length > 0) lines.push('', `Other fields (see --json): ${other.join(', ')}`);
  return lines.join('\n');
}
