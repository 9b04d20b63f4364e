import { SCAN_TYPES, TASK_STATUSES } from '@nessus-mcp/core';
import { z } from 'zod';

/*
 * Result shapes: the MCP `outputSchema` of each tool (its `structuredContent`) and the REST
 * response schema in the OpenAPI document. Nullable rather than optional where a field is part
 * of the shape but has no value yet, so agents see every field and its meaning.
 */

const taskStatus = z.enum(TASK_STATUSES);

export const submitScanOutput = z.object({
  task_id: z.string().nullable().describe('Id to pass to get_scan_status, get_scan_results and cancel_scan; null for a dry run.'),
  trace_id: z.string().describe('Correlation id of this request in the server logs.'),
  status: z
    .union([taskStatus, z.literal('dry_run')])
    .describe('"queued" for a new scan; a replayed idempotent call reports the original task\'s current state; "dry_run" when nothing was queued.'),
  scanner_pool: z.string(),
  scanner_instance: z.string().describe('Instance chosen now; the worker may move an unpinned scan to a less loaded one.'),
  queue_position: z
    .number()
    .int()
    .nullable()
    .describe(
      '1 = next to start (scans already waiting for a free scanner slot count first, oldest first); 0 = being placed on a scanner right now; null once the scan has left the queue.',
    ),
  estimated_wait_minutes: z.number().nullable().describe('Expected wait before the scan starts, from recent scan durations and pool capacity.'),
  idempotent_replay: z.boolean().describe('True when this call repeated an earlier one with the same idempotency_key.'),
  message: z.string(),
  dry_run: z
    .object({
      address_count: z.number().int().describe('Addresses the targets expand to (host names count as one).'),
      scope_checks_passed: z.array(z.string()).describe('Every check the submission passed.'),
    })
    .optional()
    .describe('Only for dry_run: true; nothing was queued.'),
});
export type SubmitScanOutput = z.infer<typeof submitScanOutput>;

const severityBreakdown = z.object({ critical: z.number(), high: z.number(), medium: z.number(), low: z.number(), info: z.number() });

export const resultsSummaryOutput = z.object({
  hosts_scanned: z.number(),
  total_vulnerabilities: z.number().describe('Findings with severity >= 1 (low to critical).'),
  severity_breakdown: severityBreakdown,
  file_size_kb: z.number().describe('Size of the raw .nessus export.'),
});

export const authenticationStatusOutput = z.enum(['success', 'partial', 'failed', 'not_applicable']);

export const taskViewOutput = z.object({
  task_id: z.string(),
  trace_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  scan_type: z.enum(SCAN_TYPES),
  status: taskStatus,
  scanner_pool: z.string(),
  scanner_instance: z.string(),
  targets: z.array(z.string()),
  target_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  progress: z.number().nullable().describe('0-100 while running (live from the scanner when reachable), 100 once completed.'),
  progress_source: z.enum(['scanner', 'worker', 'none']).describe('scanner: read live just now; worker: last value the worker recorded.'),
  raw_scanner_status: z.string().nullable(),
  queue_position: z.number().int().nullable(),
  estimated_wait_minutes: z.number().nullable(),
  cancel_requested: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  results_summary: resultsSummaryOutput.nullable().describe('Present once completed.'),
  authentication_status: authenticationStatusOutput.nullable().describe('Credentialed scans, once completed: did the SSH login work on the targets?'),
  troubleshooting: z.array(z.string()).describe('What to check when authentication failed or was partial, or the scan failed.'),
  next_step: z.string().describe('What an agent would usually do next.'),
  links: z.object({ report_html: z.string().nullable().describe('Readable HTML report (GET, same auth), once results are in.') }),
  resources: z.object({ status: z.string(), report: z.string().nullable() }).describe('MCP resource URIs of this task.'),
});
export type TaskViewOutput = z.infer<typeof taskViewOutput>;

export const taskSummaryOutput = z.object({
  task_id: z.string(),
  name: z.string(),
  scan_type: z.enum(SCAN_TYPES),
  status: taskStatus,
  scanner_pool: z.string(),
  scanner_instance: z.string(),
  targets: z.array(z.string()),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  progress: z.number().nullable(),
  total_vulnerabilities: z.number().nullable(),
});

export const taskListOutput = z.object({
  tasks: z.array(taskSummaryOutput).describe('Newest first.'),
  count: z.number().int(),
  limit: z.number().int(),
});
export type TaskListOutput = z.infer<typeof taskListOutput>;

export const scannerInstanceOutput = z.object({
  instance_id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  max_concurrent_scans: z.number().int(),
  active_scans: z.number().int().describe('Scans holding a slot on this instance now, shared by every worker.'),
  healthy: z.boolean(),
  health_status: z.string().describe('ok, starting, licence_restricted, unauthorized or unreachable. Scans wait for a starting instance.'),
  health_message: z.string().nullable(),
  startup_progress: z.number().nullable().describe('While starting: the start-up progress (0-100) Nessus reports; null otherwise.'),
  version: z.string().nullable(),
  checked_at: z.string().nullable(),
});

export const scannerPoolOutput = z.object({
  name: z.string(),
  is_default: z.boolean(),
  capacity: z.number().int().describe('Sum of max_concurrent_scans of the enabled instances.'),
  active_scans: z.number().int(),
  instances: z.array(scannerInstanceOutput),
});

export const scannersOutput = z.object({ pools: z.array(scannerPoolOutput) });
export type ScannersOutput = z.infer<typeof scannersOutput>;

const jobCounts = z.object({
  waiting: z.number().int(),
  active: z.number().int(),
  delayed: z.number().int().describe('Running scans between two polls, and retries waiting for their backoff.'),
  completed: z.number().int(),
  failed: z.number().int().describe('Dead-letter store: jobs that used up their attempts.'),
});

export const queueStatusOutput = z.object({
  totals: jobCounts,
  pools: z.array(
    z.object({
      scanner_pool: z.string(),
      queue: z.string(),
      counts: jobCounts,
      paused: z.boolean().describe('An operator paused this queue: nothing starts until it is resumed.'),
      oldest_waiting_age_seconds: z.number().nullable(),
    }),
  ),
  dead_letter_count: z.number().int(),
  oldest_waiting_age_seconds: z.number().nullable(),
});
export type QueueStatusOutput = z.infer<typeof queueStatusOutput>;

export const errorBodyOutput = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

const groupRisk = z.object({
  cisa_known_exploited: z.string().optional().describe('Earliest CISA KEV listing date in the group.'),
  exploit_available: z.literal(true).optional(),
  epss_score: z.number().optional(),
  vpr_score: z.number().optional(),
});

export const summaryOutput = z.object({
  task_id: z.string(),
  group_by: z.string(),
  filters_applied: z.record(z.string(), z.unknown()),
  total_findings: z.number().int().describe('Findings the filters keep.'),
  total_groups: z.number().int(),
  groups: z.array(
    z.object({
      key: z.union([z.string(), z.number()]),
      label: z.string(),
      count: z.number().int(),
      hosts: z.number().int(),
      max_severity: z.number().int(),
      max_risk: groupRisk.optional(),
    }),
  ),
});
export type SummaryOutput = z.infer<typeof summaryOutput>;

export const findingOutput = z.object({
  task_id: z.string(),
  finding: z.record(z.string(), z.unknown()).describe('Every field of the finding; scanner text is data from the scanned host.'),
  plugin_output_truncated: z
    .object({ shown_chars: z.number().int(), total_chars: z.number().int() })
    .nullable()
    .describe('Set when plugin_output was cut; the raw export has it whole.'),
});
export type FindingOutput = z.infer<typeof findingOutput>;
