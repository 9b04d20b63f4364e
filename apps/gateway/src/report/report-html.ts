import type { FindingGroup, SeverityCounts } from '@nessus-mcp/results';

/** One line of the "top risks" table. */
export interface RiskRow {
  finding_id: string;
  host: string;
  port: number;
  protocol: string;
  plugin_id: number;
  plugin_name: string;
  severity: number;
  cisa_known_exploited: string | null;
  exploit_available: boolean;
  epss_score: number | null;
  vpr_score: number | null;
  cvss: number | null;
}

export interface ReportData {
  task: {
    task_id: string;
    name: string;
    scan_type: string;
    targets: readonly string[];
    status: string;
    started_at: string | null;
    completed_at: string | null;
  };
  generated_at: string;
  hosts_scanned: number;
  findings_total: number;
  severity: SeverityCounts;
  authentication: { status: string; hints: readonly string[] };
  kev_findings: number;
  top_risks: readonly RiskRow[];
  /** Findings in the risk order (severity ≥ 1), of which `top_risks` are the first. */
  risk_total: number;
  fix_first: readonly FindingGroup[];
  fix_total: number;
  hosts: readonly FindingGroup[];
  host_total: number;
}

const SEVERITIES = [
  { key: 'critical', label: 'Critical', color: '#8e1b1b' },
  { key: 'high', label: 'High', color: '#d9480f' },
  { key: 'medium', label: 'Medium', color: '#e0a100' },
  { key: 'low', label: 'Low', color: '#2f7d32' },
  { key: 'info', label: 'Info', color: '#52677a' },
] as const;
const SEVERITY_NAMES = ['Info', 'Low', 'Medium', 'High', 'Critical'];

/** Everything the scanner wrote is data from scanned hosts: escaped, never markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => {
    switch (char) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

const e = (value: unknown): string => escapeHtml(value === null || value === undefined ? '' : String(value));
const number = (value: number): string => value.toLocaleString('en-US');

function severityChart(counts: SeverityCounts): string {
  const max = Math.max(1, ...SEVERITIES.map((s) => counts[s.key]));
  const rowHeight = 34;
  const width = 640;
  const labelWidth = 90;
  const barSpace = width - labelWidth - 90;
  const bars = SEVERITIES.map((severity, index) => {
    const count = counts[severity.key];
    const y = index * rowHeight + 6;
    const barWidth = count === 0 ? 0 : Math.max(2, Math.round((count / max) * barSpace));
    return (
      `<text x="0" y="${y + 17}" class="axis">${severity.label}</text>` +
      `<rect x="${labelWidth}" y="${y}" width="${barWidth}" height="24" rx="3" fill="${severity.color}"><title>${severity.label}: ${number(count)}</title></rect>` +
      `<text x="${labelWidth + barWidth + 8}" y="${y + 17}" class="count">${number(count)}</text>`
    );
  }).join('');
  return `<svg id="severity-chart" role="img" aria-label="Findings by severity" viewBox="0 0 ${width} ${SEVERITIES.length * rowHeight + 8}" width="${width}" height="${SEVERITIES.length * rowHeight + 8}">${bars}</svg>`;
}

const AUTH_TEXT: Record<string, string> = {
  success: 'Credentialed checks ran: the scanner logged in to every host.',
  partial: 'Credentialed checks ran on some hosts only, or without enough privileges.',
  failed: 'The scanner could not log in: only remotely visible issues were checked.',
  not_applicable: 'Unauthenticated scan: only remotely visible issues were checked.',
};

function authenticationSection(data: ReportData): string {
  const status = data.authentication.status;
  const hints = data.authentication.hints.length === 0 ? '' : `<ul>${data.authentication.hints.map((hint) => `<li>${e(hint)}</li>`).join('')}</ul>`;
  return `<section><h2>Authentication</h2><p><span class="badge auth-${e(status)}">${e(status.replace('_', ' '))}</span> ${e(AUTH_TEXT[status] ?? '')}</p>${hints}</section>`;
}

function severityCell(severity: number): string {
  const name = SEVERITY_NAMES[severity] ?? String(severity);
  return `<span class="sev sev-${severity}">${e(name)}</span>`;
}

const score = (value: number | null, digits: number): string => (value === null ? '—' : value.toFixed(digits));

function topRisksSection(data: ReportData): string {
  if (data.top_risks.length === 0) return '<section><h2>Top risks</h2><p>No findings of low severity or above.</p></section>';
  const rows = data.top_risks
    .map((risk) => {
      const kev = risk.cisa_known_exploited ? `<span class="badge kev">KEV ${e(risk.cisa_known_exploited)}</span>` : '';
      const exploit = risk.exploit_available ? '<span class="badge exploit">exploit</span>' : '';
      return (
        `<tr><td>${kev}${exploit}</td><td>${severityCell(risk.severity)}</td><td>${e(risk.plugin_name)} <span class="muted">(${e(risk.plugin_id)})</span></td>` +
        `<td>${e(risk.host)}</td><td>${e(risk.port)}/${e(risk.protocol)}</td><td class="num">${score(risk.epss_score, 3)}</td><td class="num">${score(risk.vpr_score, 1)}</td><td class="num">${score(risk.cvss, 1)}</td></tr>`
      );
    })
    .join('');
  return (
    `<section><h2>Top risks</h2><p class="muted">First ${data.top_risks.length} of ${number(data.risk_total)} findings in risk order: CISA KEV-listed first, ` +
    `then exploited by malware or with an exploit available, then EPSS, VPR, CVSS, severity. ${number(data.kev_findings)} findings are KEV-listed.</p>` +
    `<table><thead><tr><th>Exploitation</th><th>Severity</th><th>Finding</th><th>Host</th><th>Port</th><th>EPSS</th><th>VPR</th><th>CVSS</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function fixFirstSection(data: ReportData): string {
  if (data.fix_first.length === 0) return '<section><h2>Fix first</h2><p>Nothing to fix: no finding of low severity or above has a solution.</p></section>';
  const rows = data.fix_first
    .map((group) => {
      const kev = group.max_risk?.cisa_known_exploited ? ' <span class="badge kev">KEV</span>' : '';
      return `<tr><td>${severityCell(group.max_severity)}${kev}</td><td class="fix">${e(group.key)}<div class="muted">${e(group.label)}</div></td><td class="num">${number(group.count)}</td><td class="num">${number(group.hosts)}</td></tr>`;
    })
    .join('');
  return (
    `<section><h2>Fix first</h2><p class="muted">Solutions shared by the most findings of low severity or above (${data.fix_first.length} of ${number(data.fix_total)}).</p>` +
    `<table><thead><tr><th>Worst</th><th>Solution</th><th>Findings</th><th>Hosts</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function hostsSection(data: ReportData): string {
  const rows = data.hosts
    .map((host) => {
      const counts = host.by_severity ?? { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      const label = host.label !== String(host.key) ? ` <span class="muted">${e(host.label)}</span>` : '';
      return `<tr><td>${e(host.key)}${label}</td>${SEVERITIES.map((s) => `<td class="num ${counts[s.key] > 0 ? `c-${s.key}` : 'zero'}">${number(counts[s.key])}</td>`).join('')}<td class="num">${number(host.count)}</td></tr>`;
    })
    .join('');
  const cut =
    data.host_total > data.hosts.length ? ` The ${number(data.host_total - data.hosts.length)} hosts with the fewest serious findings are not listed.` : '';
  return (
    `<section><h2>Hosts</h2><p class="muted">${number(data.host_total)} hosts, most critical first.${cut}</p>` +
    `<table><thead><tr><th>Host</th>${SEVERITIES.map((s) => `<th>${s.label}</th>`).join('')}<th>Total</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2630;margin:0;background:#f4f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
header{border-bottom:3px solid #1d2630;margin-bottom:16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:16px;margin:0 0 16px;break-inside:avoid-page}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e3e7eb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}td.zero{color:#a0aab4}td.fix{overflow-wrap:anywhere}
.muted{color:#5c6b78;font-size:12px}.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:12px;margin-right:4px;color:#fff;background:#52677a}
.kev{background:#8e1b1b}.exploit{background:#d9480f}.auth-success{background:#2f7d32}.auth-partial{background:#e0a100}.auth-failed{background:#8e1b1b}
.sev{font-weight:600}.sev-4{color:#8e1b1b}.sev-3{color:#d9480f}.sev-2{color:#a87800}.sev-1{color:#2f7d32}.sev-0{color:#52677a}
.c-critical{color:#8e1b1b;font-weight:600}.c-high{color:#d9480f;font-weight:600}
svg .axis,svg .count{font:13px system-ui,sans-serif;fill:#1d2630}
@media print{body{background:#fff;font-size:11px}main{max-width:none;padding:0}section{border:none;padding:0 0 8px;margin:0 0 12px}
thead{display:table-header-group}tr{break-inside:avoid}.badge{border:1px solid #000;color:#000;background:none}}
`;

/** A self-contained page (inline CSS and SVG, no script, no external resource) that prints cleanly. */
export function renderReportHtml(data: ReportData): string {
  const { task } = data;
  const total = data.severity.critical + data.severity.high + data.severity.medium + data.severity.low;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>Scan report: ${e(task.name)}</title><style>${STYLE}</style></head><body><main>` +
    `<header><h1>Scan report: ${e(task.name)}</h1><p class="muted">Task ${e(task.task_id)} · generated ${e(data.generated_at)}</p></header>` +
    `<section><h2>Overview</h2><dl><dt>Targets</dt><dd>${e(task.targets.join(', '))}</dd><dt>Scan type</dt><dd>${e(task.scan_type)}</dd>` +
    `<dt>Status</dt><dd>${e(task.status)}</dd><dt>Started</dt><dd>${e(task.started_at ?? '—')}</dd><dt>Completed</dt><dd>${e(task.completed_at ?? '—')}</dd>` +
    `<dt>Hosts scanned</dt><dd>${number(data.hosts_scanned)}</dd><dt>Vulnerabilities</dt><dd>${number(total)} (severity low or above) of ${number(data.findings_total)} findings</dd></dl></section>` +
    `<section><h2>Findings by severity</h2>${severityChart(data.severity)}</section>` +
    authenticationSection(data) +
    topRisksSection(data) +
    fixFirstSection(data) +
    hostsSection(data) +
    '</main></body></html>\n'
  );
}
