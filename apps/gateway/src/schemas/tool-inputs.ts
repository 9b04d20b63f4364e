import { escalationShape, sshLoginShape, TASK_ID_PATTERN, TASK_STATUSES } from '@nessus-mcp/core';
import { PROFILE_NAMES, resultQueryShape } from '@nessus-mcp/schema';
import { z } from 'zod';

/*
 * Parameter shapes of every tool. The MCP tools list them (descriptions are read by LLM agents),
 * the REST routes validate with the same objects, and Swagger documents them: one definition,
 * three uses. They check shape only; meaning (scope, limits, credentials) is the service's job.
 * Upper bounds here are guards against abuse; the real limits come from scanners.yaml.
 */

export const taskIdParam = z
  .string()
  .max(64)
  .regex(TASK_ID_PATTERN, 'is not a task id (they look like ne_scan_20251201_143022_a1b2c3d4)')
  .describe('Task id returned by a run_*_scan tool, e.g. "ne_scan_20251201_143022_a1b2c3d4".');

const scannerPoolParam = z.string().min(1).max(64).describe('Scanner pool to use (see list_scanners). Default: the configured default pool.');

const scanShape = {
  targets: z
    .string()
    .min(1)
    .max(100_000)
    .describe(
      'What to scan: IPv4/IPv6 addresses, CIDRs, ranges (10.0.0.1-20 or 10.0.0.1-10.0.0.20) and host names, separated by commas, ' +
        'spaces or newlines. Must lie inside the server\'s allowed targets. Example: "192.168.1.10, 192.168.1.0/28, web01.lab.example.com".',
    ),
  name: z.string().max(1000).describe('Short human-readable scan name shown in Nessus and in list_tasks, e.g. "weekly web tier".'),
  description: z.string().max(10_000).optional().describe('Optional longer description of why the scan runs.'),
  schema_profile: z
    .enum(PROFILE_NAMES)
    .optional()
    .describe('Default result profile remembered for this task (minimal, summary, brief, full; default brief). get_scan_results can override it.'),
  dry_run: z
    .boolean()
    .optional()
    .describe(
      'true: check everything and answer what would happen (address count, pool and instance, queue position and wait, scope checks passed) without queueing anything.',
    ),
  idempotency_key: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Any unique string (e.g. a UUID) making a retry safe for 48 hours: repeating the call with the same key and parameters returns the ' +
        'original task instead of starting a second scan; the same key with different parameters is refused as a conflict.',
    ),
  scanner_pool: scannerPoolParam.optional(),
  scanner_instance: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Pin the scan to one scanner instance of the pool (see list_scanners). Default: the least-loaded instance.'),
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
  limit: z.number().int().min(1).max(200).optional().describe('How many tasks to return, newest first (1-200, default 20).'),
  status: z.enum(TASK_STATUSES).optional().describe('Only tasks in this state.'),
  scanner_pool: scannerPoolParam.optional().describe('Only tasks of this scanner pool.'),
  target: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Only tasks whose targets overlap this address, CIDR, range or host name: "192.168.1.5" finds a task that scanned 192.168.1.0/24.'),
};
export const listTasksInput = z.strictObject(listTasksShape);
export type ListTasksInput = z.infer<typeof listTasksInput>;

export const poolFilterShape = { scanner_pool: scannerPoolParam.optional().describe('Only this pool. Default: every pool.') };
export const poolFilterInput = z.strictObject(poolFilterShape);
export type PoolFilterInput = z.infer<typeof poolFilterInput>;
