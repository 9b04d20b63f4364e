import { groupFindings, type FindingGroup, type SeverityCounts } from '@nessus-mcp/results';
import { compileFilters, resolveSort } from '@nessus-mcp/schema';
import { renderReportHtml, type ReportData, type RiskRow } from '../report/report-html.js';
import { openTaskStore } from './scan-results.js';
import type { ServiceContext } from './service-context.js';

/** Sizes of the report's lists: enough to act on, and the page stays far below 1 MB at 75k findings. */
const TOP_RISKS = 20;
const FIX_FIRST = 15;
const MAX_HOST_ROWS = 250;

const VULNERABLE = compileFilters({ severity: '>=1' });
const NO_FILTER = compileFilters(null);
const RISK = resolveSort('risk');

function severityCountsOf(groups: readonly FindingGroup[]): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const names = ['info', 'low', 'medium', 'high', 'critical'] as const;
  for (const group of groups) {
    const name = names[Number(group.key)];
    if (name) counts[name] = group.count;
  }
  return counts;
}

/** Hosts most in need first: by critical, then high, medium, low counts. */
function byUrgency(a: FindingGroup, b: FindingGroup): number {
  const x = a.by_severity;
  const y = b.by_severity;
  if (!x || !y) return 0;
  return y.critical - x.critical || y.high - x.high || y.medium - x.medium || y.low - x.low || b.count - a.count;
}

/**
 * The HTML report of a task's results, from the same store and grouping the tools use: severity
 * counts, authentication verdict, the findings first in `risk` order, the fix-first list
 * (findings grouped by solution) and the hosts table.
 */
export async function renderTaskReport(context: ServiceContext, taskId: string): Promise<string> {
  const { task, store } = await openTaskStore(context, taskId);
  const [severities, fixes, hosts, riskRows] = await Promise.all([
    groupFindings(store, NO_FILTER, 'severity', { top: 5 }),
    groupFindings(store, VULNERABLE, 'solution', { top: FIX_FIRST }),
    groupFindings(store, NO_FILTER, 'host', { top: Number.MAX_SAFE_INTEGER, severityCounts: true }),
    store.select(VULNERABLE, RISK),
  ]);
  const topRisks: RiskRow[] = (await store.findings(riskRows.subarray(0, TOP_RISKS))).map((finding) => ({
    finding_id: finding.finding_id,
    host: finding.host,
    port: finding.port,
    protocol: finding.protocol,
    plugin_id: finding.plugin_id,
    plugin_name: finding.plugin_name,
    severity: finding.severity,
    cisa_known_exploited: typeof finding.cisa_known_exploited === 'string' ? finding.cisa_known_exploited : null,
    exploit_available: finding.exploit_available === true || finding.exploited_by_malware === true,
    epss_score: typeof finding.epss_score === 'number' ? finding.epss_score : null,
    vpr_score: typeof finding.vpr_score === 'number' ? finding.vpr_score : null,
    cvss: finding.cvss3_base_score ?? finding.cvss_base_score ?? null,
  }));
  const summary = store.summary;
  const data: ReportData = {
    task: {
      task_id: task.task_id,
      name: task.name,
      scan_type: task.scan_type,
      targets: task.targets,
      status: task.status,
      started_at: task.started_at,
      completed_at: task.completed_at,
    },
    generated_at: new Date().toISOString(),
    hosts_scanned: summary.hosts_scanned,
    findings_total: store.size,
    severity: severityCountsOf(severities.groups),
    authentication: {
      status: summary.authentication_status,
      hints: summary.authentication_hints,
    },
    kev_findings: (await store.select(compileFilters({ cisa_known_exploited: true }), null)).length,
    top_risks: topRisks,
    risk_total: riskRows.length,
    fix_first: fixes.groups,
    fix_total: fixes.total_groups,
    hosts: [...hosts.groups].sort(byUrgency).slice(0, MAX_HOST_ROWS),
    host_total: hosts.total_groups,
  };
  return renderReportHtml(data);
}
