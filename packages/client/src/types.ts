/**
 * Every request and response type of the client. Request parameters are camelCase (the client
 * maps them to the tools' snake_case); responses keep the server's field names exactly as the
 * MCP tools send them, so what a script reads matches the contract and the gateway's docs.
 * Response objects also carry any field the server adds later (`[field: string]: unknown`).
 */

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a task never leaves; `waitForCompletion` returns on the first of them. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = Object.freeze(['completed', 'failed', 'timeout', 'cancelled']);

export const SCAN_TYPES = ['untrusted', 'trusted', 'privileged'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

export const SCHEMA_PROFILES = ['minimal', 'summary', 'brief', 'full'] as const;
export type SchemaProfile = (typeof SCHEMA_PROFILES)[number];

export const PRIVILEGE_ESCALATIONS = ['sudo', 'su', 'su+sudo', 'pbrun', 'dzdo'] as const;
export type PrivilegeEscalation = (typeof PRIVILEGE_ESCALATIONS)[number];

export const SORT_KEYS = ['severity', 'cvss_score', 'host', 'plugin_id', 'port', 'risk', 'vpr_score', 'epss_score', 'cvss3_base_score'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export type AuthenticationStatus = 'success' | 'partial' | 'failed' | 'not_applicable';

/** Nessus severities: 0 info, 1 low, 2 medium, 3 high, 4 critical. */
export type Severity = 0 | 1 | 2 | 3 | 4;

// ---------------------------------------------------------------------------------------------
// Connection

export interface NessusMcpClientOptions {
  /** MCP endpoint. Default: `NESSUS_MCP_URL`, else `http://127.0.0.1:8835/mcp`. */
  url?: string | URL;
  /** Bearer token. Default: `AUTH_TOKEN`. */
  token?: string;
  /** A fetch implementation (proxies, custom TLS, tests). Default: the global fetch. */
  fetch?: typeof fetch;
  /** Per-request timeout for one tool call, in milliseconds. Default 60 000. */
  timeoutMs?: number;
  /** Name reported to the server in the MCP handshake. Default `nessus-mcp-client`. */
  clientName?: string;
}

// ---------------------------------------------------------------------------------------------
// Submitting scans

export interface UntrustedScanParams {
  /** Addresses, CIDRs, ranges or host names; an array is sent comma-separated. */
  targets: string | readonly string[];
  name: string;
  description?: string;
  /** Default results profile recorded with the task. */
  schemaProfile?: SchemaProfile;
  /** Repeating a key (within 48 h) returns the original task instead of starting another scan. */
  idempotencyKey?: string;
  scannerPool?: string;
  scannerInstance?: string;
}

/** Exactly one of a password or a private key authenticates the SSH login. */
export type SshAuthentication =
  | { sshPassword: string; sshPrivateKey?: undefined; sshPrivateKeyPassphrase?: undefined }
  | { sshPrivateKey: string; sshPrivateKeyPassphrase?: string; sshPassword?: undefined };

export type TrustedScanParams = UntrustedScanParams & {
  sshUsername: string;
  sshPort?: number;
} & SshAuthentication;

export type PrivilegedScanParams = TrustedScanParams & {
  elevatePrivilegesWith: PrivilegeEscalation;
  escalationAccount?: string;
  escalationPassword?: string;
  /** For `su+sudo` only, and required there: the account su switches to before it runs sudo (sent as `su_login`). */
  suLogin?: string;
};

/** Any scan, tagged with its type (untrusted when `type` is left out). */
export type ScanRequest =
  (UntrustedScanParams & { type?: 'untrusted' }) | (TrustedScanParams & { type: 'trusted' }) | (PrivilegedScanParams & { type: 'privileged' });

/** What every submit tool answers at once. */
export interface ScanSubmission {
  task_id: string;
  trace_id?: string;
  status: TaskStatus;
  scanner_pool?: string;
  scanner_instance?: string;
  queue_position?: number | null;
  estimated_wait_minutes?: number | null;
  message?: string;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Status

export interface SeverityBreakdown {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

export interface ResultsSummary {
  hosts_scanned: number;
  /** Findings of severity 1 (low) and above. */
  total_vulnerabilities: number;
  severity_breakdown: SeverityBreakdown;
  file_size_kb?: number;
  authentication_status?: AuthenticationStatus | null;
  [field: string]: unknown;
}

export interface TaskError {
  code: string;
  message: string;
  [field: string]: unknown;
}

export interface ScanStatus {
  task_id: string;
  status: TaskStatus;
  trace_id?: string;
  scan_type?: ScanType;
  name?: string;
  targets?: string[] | string;
  scanner_pool?: string;
  scanner_instance?: string;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  /** 0–100 while running. */
  progress?: number | null;
  queue_position?: number | null;
  /** Present once completed. */
  results_summary?: ResultsSummary | null;
  /** Set once the scan completed (`not_applicable` without credentials); null before. */
  authentication_status?: AuthenticationStatus | null;
  error?: TaskError | null;
  message?: string;
  [field: string]: unknown;
}

export interface WaitOptions {
  /** First delay between polls, in ms (default 2 000). */
  pollIntervalMs?: number;
  /** Longest delay between polls once backed off, in ms (default 15 000). */
  maxPollIntervalMs?: number;
  /** Give up after this long, in ms, with a `deadline_exceeded` error (default: wait forever). */
  timeoutMs?: number;
  /** Called with every status read, including the terminal one. */
  onProgress?: (status: ScanStatus) => void;
  /** Aborting stops the waiting (with an `aborted` error); the scan itself keeps running. */
  signal?: AbortSignal;
}

export interface ScanOutcome {
  submission: ScanSubmission;
  /** The terminal status: check `status.status` (completed, failed, timeout or cancelled). */
  status: ScanStatus;
}

// ---------------------------------------------------------------------------------------------
// Results

/** A filter value: equals for numbers/booleans, comparisons as text (`">=3"`, `"7..9"`), substring for text. */
export type FilterTerm = string | number | boolean;
export type ResultFilters = Record<string, FilterTerm | readonly FilterTerm[]>;

export interface ResultsQuery {
  /** 1-based page (default 1); 0 returns everything at once, without a pagination line. */
  page?: number;
  /** 10–100 (the server clamps other values), default 40. */
  pageSize?: number;
  profile?: SchemaProfile;
  /** Exact field list instead of a profile (`finding_id` is always included). */
  customFields?: readonly string[];
  /** AND across keys, any-of within a list, e.g. `{ severity: '>=3', host: '10.0.0.0/24' }`. */
  filters?: ResultFilters;
  sort?: SortKey;
  /** The `cursor` of an earlier page's pagination line, instead of `page`: it carries the whole query. */
  cursor?: string;
}

export type ResultsIterationQuery = Omit<ResultsQuery, 'page' | 'cursor'>;

/** What `summarizeFindings` counts by; `solution` groups findings sharing one fix (the fix-first list). */
export const GROUP_BY_KEYS = ['severity', 'plugin_id', 'host', 'cve', 'port', 'plugin_family', 'solution'] as const;
export type GroupBy = (typeof GROUP_BY_KEYS)[number];

export interface SummaryQuery {
  filters?: ResultFilters;
  /** Groups returned, largest first (default 20). */
  top?: number;
}

export interface FindingGroup {
  key: string | number;
  label: string;
  count: number;
  /** Distinct hosts among the group's findings. */
  hosts: number;
  max_severity: number;
  /** The strongest exploitation signals of the group, when it has any. */
  max_risk?: { cisa_known_exploited?: string; exploit_available?: true; epss_score?: number; vpr_score?: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface FindingSummary {
  task_id: string;
  group_by: GroupBy | (string & {});
  filters_applied: Record<string, unknown>;
  total_findings: number;
  total_groups: number;
  groups: FindingGroup[];
  [field: string]: unknown;
}

/** One finding with every field (`get_finding`). */
export interface FindingDetail {
  task_id: string;
  finding: Omit<Vulnerability, 'type'>;
  /** Set when the plugin output was cut (the text then ends with a marker). */
  plugin_output_truncated: { shown_chars: number; total_chars: number } | null;
  [field: string]: unknown;
}

/** Line 1 of a results page. */
export interface ResultsSchemaLine {
  type: 'schema';
  profile: SchemaProfile | 'custom' | (string & {});
  fields: string[] | 'all';
  filters_applied: Record<string, unknown>;
  total_vulnerabilities: number;
  total_pages: number;
  sort?: SortKey | null;
  [field: string]: unknown;
}

/** Line 2 of a results page. */
export interface ScanMetadata {
  type: 'scan_metadata';
  task_id: string;
  scan_name?: string | null;
  scan_type?: string | null;
  targets?: string[];
  started_at?: string | null;
  completed_at?: string | null;
  hosts_scanned?: number;
  total_vulnerabilities?: number;
  severity_breakdown?: SeverityBreakdown;
  authentication_status?: AuthenticationStatus | null;
  [field: string]: unknown;
}

/** One finding (one ReportItem). Which fields are present depends on the profile or custom fields. */
export interface Vulnerability {
  type: 'vulnerability';
  finding_id?: string;
  host?: string;
  host_ip?: string | null;
  host_fqdn?: string | null;
  port?: number;
  protocol?: string;
  plugin_id?: number;
  plugin_name?: string;
  severity?: number;
  risk_factor?: string | null;
  cve?: string[];
  cvss_score?: number | null;
  cvss3_base_score?: number | null;
  exploit_available?: boolean | null;
  synopsis?: string | null;
  description?: string | null;
  solution?: string | null;
  plugin_output?: string | null;
  /** CISA Known Exploited Vulnerabilities listing date (ISO day), or null when not listed. */
  cisa_known_exploited?: string | null;
  [field: string]: unknown;
}

/** Last line of a page (absent for page 0). */
export interface PaginationLine {
  type: 'pagination';
  page: number;
  page_size: number;
  total_pages: number;
  has_next: boolean;
  next_page: number | null;
  /** Opaque cursor of the next page (null on the last one); absent from older gateways. */
  cursor?: string | null;
  [field: string]: unknown;
}

export interface ResultsPage {
  schema: ResultsSchemaLine;
  metadata: ScanMetadata;
  vulnerabilities: Vulnerability[];
  /** Null when every finding was asked for at once (page 0). */
  pagination: PaginationLine | null;
}

export interface CriticalVulnerabilityOptions {
  /** Lowest severity kept (default 4, critical only). */
  minSeverity?: Severity;
  profile?: SchemaProfile;
  customFields?: readonly string[];
  /** Further filters, combined with the severity one. */
  filters?: ResultFilters;
}

export interface VulnerabilitySummary {
  task_id: string;
  scan_name: string | null;
  hosts_scanned: number;
  total_vulnerabilities: number;
  severity_breakdown: SeverityBreakdown;
  authentication_status: AuthenticationStatus | null;
  file_size_kb: number | null;
}

// ---------------------------------------------------------------------------------------------
// Listing, scanners, queue, cancel

export interface ListTasksQuery {
  limit?: number;
  status?: TaskStatus;
  scannerPool?: string;
  /** An address or CIDR: matches tasks whose targets contain or overlap it. */
  target?: string;
}

export interface TaskSummary {
  task_id: string;
  status: TaskStatus;
  scan_type?: ScanType;
  name?: string;
  targets?: string[] | string;
  scanner_pool?: string;
  scanner_instance?: string;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  progress?: number | null;
  [field: string]: unknown;
}

export interface TaskList {
  tasks: TaskSummary[];
  /** How many tasks are in `tasks` (at most the requested limit). */
  count?: number;
  [field: string]: unknown;
}

export interface ScannerInfo {
  instance_id: string;
  name?: string;
  enabled?: boolean;
  max_concurrent_scans?: number;
  /** Scans holding a slot on this instance now. */
  active_scans?: number;
  healthy?: boolean;
  /** `ok`, `loading`, `licence_restricted`, `unauthorized` or `unreachable`. */
  health_status?: string;
  health_message?: string | null;
  /** While `health_status` is `starting`: Nessus's start-up progress (0-100). */
  startup_progress?: number | null;
  version?: string | null;
  checked_at?: string | null;
  [field: string]: unknown;
}

export interface ScannerPool {
  name: string;
  is_default?: boolean;
  /** Sum of max_concurrent_scans of the enabled instances. */
  capacity?: number;
  active_scans?: number;
  instances: ScannerInfo[];
  [field: string]: unknown;
}

/** What `list_scanners` answers: the pools, each with its instances. */
export interface ScannerList {
  pools: ScannerPool[];
  [field: string]: unknown;
}

/** BullMQ job counts of one queue, or summed over pools. `failed` is the dead-letter store. */
export interface QueueJobCounts {
  waiting: number;
  active: number;
  /** Running scans between two polls, and retries waiting for their backoff. */
  delayed: number;
  completed: number;
  failed: number;
}

export interface PoolQueueStatus {
  scanner_pool: string;
  queue: string;
  counts: QueueJobCounts;
  paused: boolean;
  oldest_waiting_age_seconds: number | null;
}

export interface QueueStatus {
  totals: QueueJobCounts;
  pools: PoolQueueStatus[];
  dead_letter_count: number;
  oldest_waiting_age_seconds: number | null;
  [field: string]: unknown;
}

export interface CancelResult {
  task_id: string;
  status: TaskStatus;
  message?: string;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Codes a `NessusMcpError` carries: the server's codes (from `isError` results and error bodies)
 * plus the client's own for what happens before or around a tool call.
 */
export type NessusMcpErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'conflict'
  | 'not_ready'
  | 'out_of_scope'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'scanner_unavailable'
  | 'internal'
  /** The gateway could not be reached or answered with a server error. */
  | 'unavailable'
  /** One tool call took longer than `timeoutMs`. */
  | 'timeout'
  /** `waitForCompletion` passed its own `timeoutMs` before the scan ended. */
  | 'deadline_exceeded'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The server's answer did not have the contract's shape. */
  | 'invalid_response'
  /** Not a JSON-RPC or HTTP problem we recognise; the message says what happened. */
  | 'protocol_error'
  | (string & {});

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
