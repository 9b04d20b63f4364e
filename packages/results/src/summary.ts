import type { Finding } from '@nessus-mcp/nessus-parser';
import type { AuthenticationStatus, ComplianceBreakdown, ScanFacts, SeverityBreakdown } from '@nessus-mcp/schema';
import type { AuthenticationEvidence } from './authentication.js';

/** `summary.json`: what `get_scan_status` reports once a scan completed, and the scan_metadata facts. */
export interface ResultSummary {
  scan_name: string | null;
  policy_name: string | null;
  /** TARGET preference of the export. */
  targets: string[];
  /** Earliest HOST_START / latest HOST_END, ISO 8601. */
  scan_start: string | null;
  scan_end: string | null;
  hosts_scanned: number;
  /** Every ReportItem, informational ones included. */
  findings_total: number;
  /** Findings with severity >= 1. */
  total_vulnerabilities: number;
  severity_breakdown: SeverityBreakdown;
  /** Present when the export holds compliance results. */
  compliance?: ComplianceBreakdown;
  file_size_kb: number;
  authentication_status: AuthenticationStatus;
  authentication_evidence: AuthenticationEvidence[];
  /** Troubleshooting steps when authentication failed or was partial. */
  authentication_hints: string[];
  /** Text fields the parser cut at its size cap. */
  truncated_fields: number;
  ingested_at: string;
}

const SEVERITY_NAMES = ['info', 'low', 'medium', 'high', 'critical'] as const;

/** Counts severities and compliance results while findings stream past. */
export class FindingTally {
  readonly severity: SeverityBreakdown = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  private complianceSeen = false;
  readonly compliance: ComplianceBreakdown = { passed: 0, failed: 0, warning: 0, error: 0, other: 0 };

  observe(finding: Finding): void {
    const name = SEVERITY_NAMES[finding.severity];
    if (name) this.severity[name] += 1;
    if (finding.compliance) {
      this.complianceSeen = true;
      switch ((finding.compliance.result ?? '').toUpperCase()) {
        case 'PASSED': this.compliance.passed += 1; break;
        case 'FAILED': this.compliance.failed += 1; break;
        case 'WARNING': this.compliance.warning += 1; break;
        case 'ERROR': this.compliance.error += 1; break;
        default: this.compliance.other += 1;
      }
    }
  }

  vulnerabilities(): number {
    return this.severity.critical + this.severity.high + this.severity.medium + this.severity.low;
  }

  complianceBreakdown(): ComplianceBreakdown | undefined {
    return this.complianceSeen ? { ...this.compliance } : undefined;
  }
}

/** The scan facts the `scan_metadata` line carries. */
export function scanFactsOf(summary: ResultSummary): ScanFacts {
  return {
    hosts_scanned: summary.hosts_scanned,
    total_vulnerabilities: summary.total_vulnerabilities,
    severity_breakdown: summary.severity_breakdown,
    authentication_status: summary.authentication_status,
    ...(summary.compliance ? { compliance: summary.compliance } : {}),
  };
}
