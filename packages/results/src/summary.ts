import type { Finding } from '@nessus-mcp/nessus-parser';
import type { ResultFigures } from '@nessus-mcp/core/tasks';
import type { ComplianceBreakdown, ScanFacts, SeverityBreakdown } from '@nessus-mcp/schema';
import type { AuthenticationEvidence } from './authentication.js';

/** `summary.json`, the full record of an ingested scan: the task record's figures and the scan_metadata facts. */
export interface ResultSummary extends ResultFigures {
  scan_name: string | null;
  policy_name: string | null;
  /** TARGET preference of the export. */
  targets: string[];
  /** Earliest HOST_START / latest HOST_END, ISO 8601. */
  scan_start: string | null;
  scan_end: string | null;
  /** Present when the export holds compliance results. */
  compliance?: ComplianceBreakdown;
  authentication_evidence: AuthenticationEvidence[];
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
        case 'PASSED':
          this.compliance.passed += 1;
          break;
        case 'FAILED':
          this.compliance.failed += 1;
          break;
        case 'WARNING':
          this.compliance.warning += 1;
          break;
        case 'ERROR':
          this.compliance.error += 1;
          break;
        default:
          this.compliance.other += 1;
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

/**
 * The figures the task record keeps: `summary.json` without the scan's facts and the
 * authentication evidence (one evidence line per host, which would grow every status read).
 */
export function resultFiguresOf(summary: ResultSummary): ResultFigures {
  return {
    hosts_scanned: summary.hosts_scanned,
    findings_total: summary.findings_total,
    total_vulnerabilities: summary.total_vulnerabilities,
    severity_breakdown: summary.severity_breakdown,
    file_size_kb: summary.file_size_kb,
    authentication_status: summary.authentication_status,
    authentication_hints: summary.authentication_hints,
  };
}
