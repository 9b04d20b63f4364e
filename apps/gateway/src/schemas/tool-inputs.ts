import { escalationShape, sshLoginShape, TASK_ID_PATTERN, TASK_STATUSES } from '@nessus-mcp/core';
import { GROUP_BY_KEYS } from '@nessus-mcp/results';
import { PROFILE_NAMES, cursorParam, filtersParam, pageParam, pageSizeParam, resultQueryShape, resultQueryShapeLike } from '@nessus-mcp/schema';
import { z } from 'zod';

/*
 * Parameter shapes of every tool. The MCP tools list them (descriptions are read by LLM agents),
 * the REST routes validate with the same objects, and Swagger documents them: one definition,
 * three uses. They check shape only; meaning (scope, limits, credentials) is the service's job.
 * Upper bounds here are guards against abuse; the real limits come from scanners.yaml.
 */

// Checked by a refinement, not `.regex`: the pattern would be repeated in the JSON schema of every
// tool taking a task id, and agents pay for each copy in context; the message already shows the form.
export const taskIdParam = z
  .string()
  .max(64)
  .refine((value) => TASK_ID_PATTERN.test(value), 'is not a task id (they look like ne_scan_20251201_143022_a1b2c3d4)')
  .describe('Task id from a run_*_scan tool.');

const scannerPoolParam = z.string().min(1).max(64).describe('Scanner pool (see list_scanners); default: the configured default pool.');

const scanShape = {
  targets: z
    .string()
    .min(1)
    .max(100_000)
    .describe(
      "Addresses (IPv4/IPv6), CIDRs, ranges (10.0.0.1-20) and host names, separated by commas, spaces or newlines; inside the server's allowed targets.",
    ),
  name: z.string().max(1000).describe('Scan name shown in Nessus and list_tasks.'),
  description: z.string().max(10_000).optional().describe('Why the scan runs.'),
  schema_profile: z
    .enum(PROFILE_NAMES)
    .optional()
    .describe('Default result profile remembered for this task (minimal, summary, brief, full; default brief). get_scan_results can override it.'),
  dry_run: z
    .boolean()
    .optional()
    .describe('true: check everything and answer what would happen (addresses, pool, instance, queue position, wait) without queueing.'),
  idempotency_key: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('A unique string (e.g. a UUID): a repeat within 48 h returns the first task, not a second scan (other parameters: conflict).'),
  scanner_pool: scannerPoolParam.optional(),
  scanner_instance: z.string().min(1).max(64).optional().describe('Pin to one instance of the pool (default: the least loaded).'),
};

export const untrustedScanShape = scanShape;
// The credential fields and their cross-field rules are core's (`parseScanCredentials`), shared with the worker.
export const trustedScanShape = { ...scanShape, ...sshLoginShape };
export const privilegedScanShape = { ...scanShape, ...sshLoginShape, ...escalationShape };

// Strict: a secret sent to the wrong tool (ssh_password to run_untrusted_scan) is refused, not silently dropped.
export const untrustedScanInput = z.strictObject(untrustedScanShape);
export const trustedScanInput = z.strictObject(trustedScanShape);
export const privilegedScanInput = z.strictObject(privilegedScanShape);

export type UntrustedScanInput = z.infer<typeof untrustedScanInput>;
export type TrustedScanInput = z.infer<typeof trustedScanInput>;
export type PrivilegedScanInput = z.infer<typeof privilegedScanInput>;
/** Every scan tool's input, the fields of the stronger tools optional. */
export type ScanInput = UntrustedScanInput & Partial<Omit<PrivilegedScanInput, keyof UntrustedScanInput>>;

export const taskIdShape = { task_id: taskIdParam };
export const taskIdInput = z.strictObject(taskIdShape);

export const scanResultsShape = { task_id: taskIdParam, ...resultQueryShape };
export const scanResultsInput = z.strictObject(scanResultsShape);
export type ScanResultsInput = z.infer<typeof scanResultsInput>;

export const listTasksShape = {
  limit: z.number().int().min(1).max(200).optional().describe('Default 20.'),
  status: z.enum(TASK_STATUSES).optional().describe('Only tasks in this state.'),
  scanner_pool: scannerPoolParam.optional().describe('Only tasks of this scanner pool.'),
  target: z.string().min(1).max(100).optional().describe('Only tasks whose targets overlap this address, CIDR, range or host name.'),
};
export const listTasksInput = z.strictObject(listTasksShape);
export type ListTasksInput = z.infer<typeof listTasksInput>;

export const poolFilterShape = { scanner_pool: scannerPoolParam.optional().describe('Only this pool. Default: every pool.') };
export const poolFilterInput = z.strictObject(poolFilterShape);
export type PoolFilterInput = z.infer<typeof poolFilterInput>;

const CHANGES = ['new', 'fixed', 'not_rescanned', 'persisting', 'changed'] as const;

export const compareScansShape = {
  task_id: taskIdParam.describe('The newer scan.'),
  base_task_id: z
    .union([z.literal('previous'), taskIdParam])
    .describe('The scan to compare against: a task id, or "previous" for the latest earlier completed scan with overlapping targets.'),
  change: z
    .union([z.enum(CHANGES), z.array(z.enum(CHANGES)).min(1)])
    .optional()
    .describe('List only these classes (counts always cover all).'),
  ...resultQueryShapeLike('get_scan_results'),
};
export const compareScansInput = z.strictObject(compareScansShape);
export type CompareScansInput = z.infer<typeof compareScansInput>;

export const SEARCH_SCOPES = ['latest', 'history'] as const;

export const searchFindingsShape = {
  cve: z
    .string()
    .regex(/^CVE-\d{4}-\d{4,}$/i, 'is not a CVE id (CVE-2021-44228)')
    .optional()
    .describe('A CVE id, e.g. "CVE-2021-44228".'),
  plugin_id: z.number().int().min(1).optional().describe('A Nessus plugin id.'),
  host: z.string().min(1).max(255).optional().describe('An address, CIDR or host name.'),
  scope: z
    .enum(SEARCH_SCOPES)
    .optional()
    .describe('latest (default): per host, only its most recent scan. history: every scan, with a per-scan severity line for host searches.'),
  page: pageParam.optional(),
  page_size: pageSizeParam.optional(),
  cursor: cursorParam.optional(),
};
export const searchFindingsInput = z.strictObject(searchFindingsShape);
export type SearchFindingsInput = z.infer<typeof searchFindingsInput>;
export const DEFAULT_SUMMARY_TOP = 20;
export const MAX_SUMMARY_TOP = 1000;

export const summarizeShape = {
  task_id: taskIdParam,
  group_by: z.enum(GROUP_BY_KEYS).describe('What to count findings by. solution = findings sharing one fix: the fix-first list.'),
  filters: filtersParam.optional().describe('As in get_scan_results, e.g. {"severity": ">=3"}.'),
  top: z.number().int().min(1).max(MAX_SUMMARY_TOP).optional().describe(`Groups returned, largest first (default ${DEFAULT_SUMMARY_TOP}).`),
};
export const summarizeInput = z.strictObject(summarizeShape);
export type SummarizeInput = z.infer<typeof summarizeInput>;

export const findingIdParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a finding id (finding_id of a get_scan_results line, e.g. "9f1c2b7a40d3e815")')
  .describe('finding_id from a get_scan_results line.');
export const findingShape = { task_id: taskIdParam, finding_id: findingIdParam };
export const findingInput = z.strictObject(findingShape);
export type FindingInput = z.infer<typeof findingInput>;
