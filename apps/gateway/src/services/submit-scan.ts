import { createHmac } from 'node:crypto';
import {
  AppError,
  assertInScope,
  newTaskId,
  parseScanCredentials,
  parseTargets,
  sealScanCredentials,
  SECRET_CREDENTIAL_FIELDS,
  type AllowList,
  type ScanCredentials,
  type ScanJobData,
  type ScannersConfig,
  type ScanType,
  type Task,
} from '@nessus-mcp/core';
import { DEFAULT_PROFILE, firstUnsafeCodePoint } from '@nessus-mcp/schema';
import type { ScanInput } from '../schemas/tool-inputs.js';
import type { SubmitScanOutput } from '../schemas/tool-outputs.js';
import { dryRunAnswer } from './dry-run.js';
import { describeQueued } from './queue-estimate.js';
import { pickInstance, resolveScanPool } from './scanner-pools.js';
import type { CallContext, ServiceContext } from './service-context.js';

/** A submission after every check: what the task and its job are built from. */
interface CheckedSubmission {
  scanType: ScanType;
  pool: string;
  name: string;
  description: string | null;
  targets: string[];
  addressCount: number;
  credentials: ScanCredentials | null;
}

/** Checks everything before anything is written, then records the task, queues its job and answers. */
export async function submitScan(context: ServiceContext, scanType: ScanType, input: ScanInput, call: CallContext): Promise<SubmitScanOutput> {
  const { config, allowList } = context.setup();
  const submission = checkSubmission(config, allowList, call.principal.allowList, scanType, input);
  const instanceId = input.scanner_instance ?? (await pickInstance(context, submission.pool));
  if (input.dry_run === true) {
    return dryRunAnswer(context, call, {
      scanType,
      pool: submission.pool,
      instanceId,
      pinned: input.scanner_instance !== undefined,
      addressCount: submission.addressCount,
      narrowed: call.principal.allowList !== null,
    });
  }
  const { task, job } = buildTask(context, submission, instanceId, input, call);

  // Keys are per client: another client reusing a key it saw (in a log, a shared script) gets its
  // own scan, and cannot learn from replay-or-conflict whether its guess of the other request's
  // SSH password was right.
  const keyHash =
    input.idempotency_key === undefined
      ? undefined
      : createHmac('sha256', context.credentialsKey).update(`${call.principal.name}\n${input.idempotency_key}`).digest('hex');
  const hash = paramsHash(scanType, input, context.credentialsKey);
  if (keyHash !== undefined) task.idempotency_key_hash = keyHash;
  const created = await context.tasks.create(task, {
    ...(keyHash !== undefined ? { idempotencyKeyHash: keyHash } : {}),
    paramsHash: hash,
    idempotencyTtlSeconds: config.retention.idempotency_hours * 3600,
    jobPayload: job,
  });
  if (!created.created) return replayEarlierSubmission(context, created.task, created.paramsHash === hash, call);

  // The task record (with its job payload) exists before the job: if this add is lost, the
  // worker's reconcile-queued housekeeping re-enqueues the task from that payload.
  await context.queues.forPool(submission.pool).add('scan', job, { jobId: task.task_id });
  call.logger.info(
    { task_id: task.task_id, scan_type: scanType, scanner_pool: submission.pool, scanner_instance: instanceId, target_count: submission.addressCount },
    'scan queued',
  );
  return answerQueued(context, task, submission.addressCount);
}

/**
 * Pool, text fields, targets in scope and credentials, each refused with the field named.
 * `clientAllowList`: the caller's own allowed_targets (access file), which can only narrow the global list.
 */
function checkSubmission(
  config: ScannersConfig,
  allowList: AllowList,
  clientAllowList: AllowList | null,
  scanType: ScanType,
  input: ScanInput,
): CheckedSubmission {
  const pool = resolveScanPool(config, input.scanner_pool, input.scanner_instance);
  const name = checkText('name', input.name, config.limits.max_name_length, false, true);
  const description =
    input.description === undefined ? null : checkText('description', input.description, config.limits.max_description_length, true, false) || null;
  const parsed = parseTargets(input.targets, { maxAddresses: config.limits.max_addresses_per_scan });
  assertInScope(parsed.targets, allowList);
  if (clientAllowList !== null) assertInScope(parsed.targets, clientAllowList);
  return {
    scanType,
    pool: pool.name,
    name,
    description,
    targets: parsed.targets.map((target) => target.text),
    addressCount: parsed.addressCount,
    credentials: parseScanCredentials(scanType, input),
  };
}

/** The queued task and its job payload; the credentials enter the job only sealed. */
function buildTask(
  context: ServiceContext,
  submission: CheckedSubmission,
  instanceId: string,
  input: ScanInput,
  call: CallContext,
): { task: Task; job: ScanJobData } {
  const now = new Date();
  const taskId = newTaskId(submission.pool, instanceId, now);
  const task: Task = {
    task_id: taskId,
    trace_id: call.traceId,
    scan_type: submission.scanType,
    name: submission.name,
    description: submission.description,
    targets: submission.targets,
    target_count: submission.addressCount,
    scanner_pool: submission.pool,
    scanner_instance: instanceId,
    instance_pinned: input.scanner_instance !== undefined,
    schema_profile: input.schema_profile ?? DEFAULT_PROFILE,
    status: 'queued',
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    started_at: null,
    completed_at: null,
    error: null,
    nessus_scan_id: null,
    raw_scanner_status: null,
    progress: null,
    has_credentials: submission.credentials !== null,
    idempotency_key_hash: null,
    cancel_requested: false,
    results_summary: null,
  };
  const job: ScanJobData = {
    task_id: taskId,
    trace_id: call.traceId,
    pool: submission.pool,
    instance_pinned: input.scanner_instance ?? null,
    scan_type: submission.scanType,
    name: submission.name,
    description: submission.description,
    targets: submission.targets,
    // Encrypted before anything reaches Redis; the task id is the AES-GCM additional data.
    credentials: submission.credentials === null ? null : sealScanCredentials(context.credentialsKey, submission.credentials, taskId),
  };
  return { task, job };
}

/** A repeated idempotency key: the earlier task when the parameters match, a conflict otherwise. */
async function replayEarlierSubmission(context: ServiceContext, existing: Task, sameParameters: boolean, call: CallContext): Promise<SubmitScanOutput> {
  if (!sameParameters) {
    throw new AppError(
      'conflict',
      `idempotency_key: was already used for task ${existing.task_id} with different parameters; use a new key for a different scan`,
      {
        details: { field: 'idempotency_key', task_id: existing.task_id },
      },
    );
  }
  const estimate = await describeQueued(context, existing);
  call.logger.info({ task_id: existing.task_id }, 'idempotent replay of an earlier submission');
  return {
    task_id: existing.task_id,
    trace_id: existing.trace_id,
    status: existing.status,
    scanner_pool: existing.scanner_pool,
    scanner_instance: existing.scanner_instance,
    queue_position: estimate.queue_position,
    estimated_wait_minutes: estimate.estimated_wait_minutes,
    idempotent_replay: true,
    message: `Same idempotency_key and parameters as an earlier call: this is that task (status ${existing.status}), no new scan was started.`,
  };
}

/** The answer for a newly queued task: where it stands in line and what to call next. */
async function answerQueued(context: ServiceContext, task: Task, addressCount: number): Promise<SubmitScanOutput> {
  const estimate = await describeQueued(context, task);
  const wait =
    estimate.estimated_wait_minutes === null ? 'unknown' : estimate.estimated_wait_minutes === 0 ? 'none' : `about ${estimate.estimated_wait_minutes} min`;
  return {
    task_id: task.task_id,
    trace_id: task.trace_id,
    status: 'queued',
    scanner_pool: task.scanner_pool,
    scanner_instance: task.scanner_instance,
    queue_position: estimate.queue_position,
    estimated_wait_minutes: estimate.estimated_wait_minutes,
    idempotent_replay: false,
    message:
      `Scan of ${addressCount} address(es) queued as ${task.task_id} (position ${estimate.queue_position ?? '-'}, expected wait ${wait}; ${estimate.basis}). ` +
      'Poll get_scan_status with this task_id; when it is completed, read findings with get_scan_results.',
  };
}

/**
 * Tabs and newlines are fine in a description; any other control character (and any at all in a
 * name) would corrupt log lines, Nessus' UI or a terminal showing list_tasks.
 */
function hasControlCharacter(text: string, allowLineBreaks: boolean): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (allowLineBreaks && (char === '\n' || char === '\t' || char === '\r')) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

function checkText(field: string, value: string, max: number, allowLineBreaks: boolean, required: boolean): string {
  const text = value.trim();
  if (required && text === '') throw new AppError('invalid_argument', `${field}: must not be empty`, { details: { field } });
  if (text.length > max)
    throw new AppError('invalid_argument', `${field}: is ${text.length} characters long; at most ${max} are allowed`, { details: { field, max } });
  if (hasControlCharacter(text, allowLineBreaks))
    throw new AppError('invalid_argument', `${field}: must not contain control characters`, { details: { field } });
  // Refused rather than stripped, like control characters: the caller learns what was wrong, and a
  // name shown to people and models never differs from what was typed in an invisible way.
  const unsafe = firstUnsafeCodePoint(text);
  if (unsafe !== null) {
    const what = /^U\+D[89A-F]/.test(unsafe) ? 'a lone surrogate half' : unsafe;
    throw new AppError('invalid_argument', `${field}: must not contain invisible or text-direction characters (found ${what})`, {
      details: { field, code_point: unsafe },
    });
  }
  return text;
}

const SECRET_FIELDS: ReadonlySet<string> = new Set(SECRET_CREDENTIAL_FIELDS);

/**
 * Hash of exactly what the caller sent, minus the key itself. Secrets enter only as an HMAC under
 * the credentials key: the hash is stored in Redis, and a plain digest of a password could be
 * brute-forced from there. The chosen instance never enters: a replay in a multi-scanner pool
 * must match whichever instance the first call picked.
 */
function paramsHash(scanType: ScanType, input: ScanInput, key: Buffer): string {
  const entries = Object.entries(input)
    .filter(([name, value]) => name !== 'idempotency_key' && name !== 'dry_run' && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => [name, SECRET_FIELDS.has(name) ? createHmac('sha256', key).update(String(value)).digest('hex') : value]);
  // Keyed as a whole too: a stored plain digest of the request would let anyone holding Redis test guesses offline.
  return createHmac('sha256', key)
    .update(JSON.stringify([scanType, entries]))
    .digest('hex');
}
