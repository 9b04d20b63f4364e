import { z } from 'zod';
import { NessusMcpError } from './errors.js';
import { SCAN_TYPES, TASK_STATUSES } from './types.js';
import type {
  CancelResult,
  FindingDetail,
  FindingSummary,
  PaginationLine,
  QueueStatus,
  ResultsSchemaLine,
  ResultsSummary,
  ScanMetadata,
  ScannerList,
  ScanStatus,
  ScanSubmission,
  TaskList,
  TaskSummary,
  Vulnerability,
} from './types.js';

/*
 * Runtime checks of what the gateway answers. They insist on the fields the client's own logic
 * reads (task ids, statuses, the results lines' counters) and on the types of the contract's
 * other fields when present, and let every extra field through (loose objects), so a gateway that
 * adds fields never breaks a deployed client. Each is pinned to its type in types.ts by the
 * `z.ZodType<...>` annotation, so the two cannot drift apart.
 */

const status = z.enum(TASK_STATUSES);
const count = z.number().int().nonnegative();
// The gateway sends null until a scan has completed (and for a credentialed scan it could not judge).
const authenticationStatus = z.enum(['success', 'partial', 'failed', 'not_applicable']).nullable();
const targets = z.union([z.array(z.string()), z.string()]);

const severityBreakdown = z.looseObject({ critical: count, high: count, medium: count, low: count, info: count });

export const resultsSummarySchema: z.ZodType<ResultsSummary> = z.looseObject({
  hosts_scanned: count,
  total_vulnerabilities: count,
  severity_breakdown: severityBreakdown,
  file_size_kb: z.number().nonnegative().optional(),
  authentication_status: authenticationStatus.optional(),
});

export const scanSubmissionSchema: z.ZodType<ScanSubmission> = z.looseObject({
  task_id: z.string().min(1),
  trace_id: z.string().optional(),
  status,
  scanner_pool: z.string().optional(),
  scanner_instance: z.string().optional(),
  queue_position: z.number().nullable().optional(),
  estimated_wait_minutes: z.number().nullable().optional(),
  message: z.string().optional(),
});

const taskError = z.looseObject({ code: z.string(), message: z.string() });

export const scanStatusSchema: z.ZodType<ScanStatus> = z.looseObject({
  task_id: z.string().min(1),
  status,
  trace_id: z.string().optional(),
  scan_type: z.enum(SCAN_TYPES).optional(),
  name: z.string().optional(),
  targets: targets.optional(),
  scanner_pool: z.string().optional(),
  scanner_instance: z.string().optional(),
  created_at: z.string().optional(),
  started_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  progress: z.number().min(0).max(100).nullable().optional(),
  queue_position: z.number().nullable().optional(),
  results_summary: resultsSummarySchema.nullable().optional(),
  authentication_status: authenticationStatus.optional(),
  error: taskError.nullable().optional(),
  message: z.string().optional(),
});

const taskSummarySchema: z.ZodType<TaskSummary> = z.looseObject({
  task_id: z.string().min(1),
  status,
  scan_type: z.enum(SCAN_TYPES).optional(),
  name: z.string().optional(),
  targets: targets.optional(),
  scanner_pool: z.string().optional(),
  scanner_instance: z.string().optional(),
  created_at: z.string().optional(),
  started_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  progress: z.number().nullable().optional(),
});

export const taskListSchema: z.ZodType<TaskList> = z.looseObject({ tasks: z.array(taskSummarySchema), count: count.optional() });

const scannerInstanceSchema = z.looseObject({
  instance_id: z.string().min(1),
  name: z.string().optional(),
  enabled: z.boolean().optional(),
  max_concurrent_scans: count.optional(),
  active_scans: count.optional(),
  healthy: z.boolean().optional(),
  health_status: z.string().optional(),
  health_message: z.string().nullable().optional(),
  startup_progress: z.number().nullable().optional(),
  version: z.string().nullable().optional(),
  checked_at: z.string().nullable().optional(),
});

export const scannerListSchema: z.ZodType<ScannerList> = z.looseObject({
  pools: z.array(
    z.looseObject({
      name: z.string().min(1),
      is_default: z.boolean().optional(),
      capacity: count.optional(),
      active_scans: count.optional(),
      instances: z.array(scannerInstanceSchema),
    }),
  ),
});

const jobCounts = z.object({ waiting: count, active: count, delayed: count, completed: count, failed: count });

export const queueStatusSchema: z.ZodType<QueueStatus> = z.looseObject({
  totals: jobCounts,
  pools: z.array(
    z.looseObject({
      scanner_pool: z.string().min(1),
      queue: z.string().min(1),
      counts: jobCounts,
      paused: z.boolean(),
      oldest_waiting_age_seconds: z.number().nullable(),
    }),
  ),
  dead_letter_count: count,
  oldest_waiting_age_seconds: z.number().nullable(),
});

export const cancelResultSchema: z.ZodType<CancelResult> = z.looseObject({
  task_id: z.string().min(1),
  status,
  message: z.string().optional(),
});

export const schemaLineSchema: z.ZodType<ResultsSchemaLine> = z.looseObject({
  type: z.literal('schema'),
  profile: z.string(),
  fields: z.union([z.array(z.string()), z.literal('all')]),
  filters_applied: z.record(z.string(), z.unknown()),
  total_vulnerabilities: count,
  total_pages: count,
  sort: z.enum(['severity', 'cvss_score', 'host', 'plugin_id', 'port']).nullable().optional(),
});

export const scanMetadataSchema: z.ZodType<ScanMetadata> = z.looseObject({
  type: z.literal('scan_metadata'),
  task_id: z.string(),
  scan_name: z.string().nullable().optional(),
  scan_type: z.string().nullable().optional(),
  targets: z.array(z.string()).optional(),
  started_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  hosts_scanned: count.optional(),
  total_vulnerabilities: count.optional(),
  severity_breakdown: severityBreakdown.optional(),
  authentication_status: authenticationStatus.optional(),
});

/** A finding's fields are whatever the profile chose: each is optional, but typed when present. */
const findingFields = {
  finding_id: z.string().optional(),
  host: z.string().optional(),
  host_ip: z.string().nullable().optional(),
  host_fqdn: z.string().nullable().optional(),
  port: z.number().optional(),
  protocol: z.string().optional(),
  plugin_id: z.number().optional(),
  plugin_name: z.string().optional(),
  severity: z.number().optional(),
  risk_factor: z.string().nullable().optional(),
  cve: z.array(z.string()).optional(),
  cvss_score: z.number().nullable().optional(),
  cvss3_base_score: z.number().nullable().optional(),
  exploit_available: z.boolean().nullable().optional(),
  synopsis: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  solution: z.string().nullable().optional(),
  plugin_output: z.string().nullable().optional(),
  cisa_known_exploited: z.string().nullable().optional(),
};

export const vulnerabilitySchema: z.ZodType<Vulnerability> = z.looseObject({ type: z.literal('vulnerability'), ...findingFields });

export const findingSummarySchema: z.ZodType<FindingSummary> = z.looseObject({
  task_id: z.string().min(1),
  group_by: z.string(),
  filters_applied: z.record(z.string(), z.unknown()),
  total_findings: count,
  total_groups: count,
  groups: z.array(
    z.looseObject({
      key: z.union([z.string(), z.number()]),
      label: z.string(),
      count,
      hosts: count,
      max_severity: z.number().int(),
      max_risk: z
        .looseObject({
          cisa_known_exploited: z.string().optional(),
          exploit_available: z.literal(true).optional(),
          epss_score: z.number().optional(),
          vpr_score: z.number().optional(),
        })
        .optional(),
    }),
  ),
});

export const findingDetailSchema: z.ZodType<FindingDetail> = z.looseObject({
  task_id: z.string().min(1),
  finding: z.looseObject({ ...findingFields, finding_id: z.string() }),
  plugin_output_truncated: z.looseObject({ shown_chars: count, total_chars: count }).nullable(),
});

export const paginationLineSchema: z.ZodType<PaginationLine> = z.looseObject({
  type: z.literal('pagination'),
  page: count,
  page_size: count,
  total_pages: count,
  has_next: z.boolean(),
  next_page: count.nullable(),
  cursor: z.string().nullable().optional(),
});

/** Validates `value`, or throws `invalid_response` naming the first offending field. */
export function parseResponse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  throw new NessusMcpError('invalid_response', `${what}: unexpected answer from the gateway at ${path}: ${issue?.message ?? 'invalid'}`, {
    details: { issues: result.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}
