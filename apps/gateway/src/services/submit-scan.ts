import { createHmac } from 'node:crypto';
import {
  AppError,
  assertInScope,
  sealScanCredentials,
  findPool,
  newTaskId,
  parseTargets,
  type ScanCredentialsPlain,
  type ScanJobData,
  type ScanType,
  type Task,
} from '@nessus-mcp/core';
import { DEFAULT_PROFILE } from '@nessus-mcp/schema';
import type { ScanInput } from '../schemas/tool-inputs.js';
import type { SubmitScanOutput } from '../schemas/tool-outputs.js';
import { dryRunAnswer } from './dry-run.js';
import { estimateWait, queuePosition } from './queue-estimate.js';
import type { CallContext, ServiceContext } from './service-context.js';

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
  if (text.length > max) throw new AppError('invalid_argument', `${field}: is ${text.length} characters long; at most ${max} are allowed`, { details: { field, max } });
  if (hasControlCharacter(text, allowLineBreaks)) throw new AppError('invalid_argument', `${field}: must not contain control characters`, { details: { field } });
  return text;
}

/** The credentials as sealed into the job, in the shape core's `openScanCredentials` gives the worker. */
function credentialsOf(scanType: ScanType, input: ScanInput): ScanCredentialsPlain | null {
  if (scanType === 'untrusted') return null;
  if (!input.ssh_username) throw new AppError('invalid_argument', 'ssh_username: is required for a credentialed scan', { details: { field: 'ssh_username' } });
  const hasPassword = input.ssh_password !== undefined;
  const hasKey = input.ssh_private_key !== undefined;
  if (hasPassword === hasKey) {
    throw new AppError('invalid_argument', 'give exactly one of ssh_password and ssh_private_key', { details: { fields: ['ssh_password', 'ssh_private_key'] } });
  }
  if (input.ssh_private_key_passphrase !== undefined && !hasKey) {
    throw new AppError('invalid_argument', 'ssh_private_key_passphrase: only applies with ssh_private_key', { details: { field: 'ssh_private_key_passphrase' } });
  }
  if (hasKey && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(input.ssh_private_key ?? '')) {
    throw new AppError('invalid_argument', 'ssh_private_key: is not a PEM private key (expected a -----BEGIN ... PRIVATE KEY----- block)', { details: { field: 'ssh_private_key' } });
  }
  if (scanType === 'privileged' && !input.elevate_privileges_with) {
    throw new AppError('invalid_argument', 'elevate_privileges_with: is required for a privileged scan', { details: { field: 'elevate_privileges_with' } });
  }
  const plain: ScanCredentialsPlain = { ssh_username: input.ssh_username };
  const optional = ['ssh_password', 'ssh_private_key', 'ssh_private_key_passphrase', 'ssh_port'] as const;
  for (const field of optional) if (input[field] !== undefined) Object.assign(plain, { [field]: input[field] });
  if (scanType === 'privileged') {
    for (const field of ['elevate_privileges_with', 'escalation_account', 'escalation_password'] as const) if (input[field] !== undefined) Object.assign(plain, { [field]: input[field] });
  }
  return plain;
}

const SECRET_FIELDS = new Set(['ssh_password', 'ssh_private_key', 'ssh_private_key_passphrase', 'escalation_password']);

/**
 * Hash of exactly what the caller sent, minus the key itself. Secrets enter only as an HMAC under
 * the credentials key: the hash is stored in Redis, and a plain digest of a password could be
 * brute-forced from there. The chosen instance never enters (the predecessor's replay broke in
 * multi-scanner pools because it did).
 */
function paramsHash(scanType: ScanType, input: ScanInput, key: Buffer): string {
  const entries = Object.entries(input)
    .filter(([name, value]) => name !== 'idempotency_key' && name !== 'dry_run' && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => [name, SECRET_FIELDS.has(name) ? createHmac('sha256', key).update(String(value)).digest('hex') : value]);
  // Keyed as a whole too: a stored plain digest of the request would let anyone holding Redis test guesses offline.
  return createHmac('sha256', key).update(JSON.stringify([scanType, entries])).digest('hex');
}

/** Queue position and wait estimate of a queued task (nulls for any other state). */
export async function describeQueued(context: ServiceContext, task: Task): Promise<{ queue_position: number | null; estimated_wait_minutes: number | null; basis: string }> {
  if (task.status !== 'queued') return { queue_position: null, estimated_wait_minutes: null, basis: '' };
  const { fleet } = context.setup();
  const queue = context.queues.forPool(task.scanner_pool);
  const [position, load, durations] = await Promise.all([
    queuePosition(context.redis, context.tasks, queue, task.task_id),
    fleet.load(task.scanner_pool).catch(() => []),
    context.tasks.recentDurations(task.scanner_pool),
  ]);
  const relevant = task.instance_pinned ? load.filter((instance) => instance.instanceId === task.scanner_instance) : load;
  return estimateWait(position, relevant, durations);
}

/** Least-loaded enabled instance by shared load, healthy ones first when health is known. */
async function pickInstance(context: ServiceContext, pool: string): Promise<string> {
  const { fleet } = context.setup();
  const [load, health] = await Promise.all([fleet.load(pool), fleet.health(pool).catch(() => [])]);
  const healthy = new Map(health.map((h) => [h.instanceId, h.healthy]));
  const candidates = load.filter((instance) => instance.enabled && instance.capacity > 0);
  if (candidates.length === 0) throw new AppError('scanner_unavailable', `scanner pool '${pool}' has no enabled instance`, { details: { scanner_pool: pool } });
  candidates.sort((a, b) => {
    const health = Number(healthy.get(b.instanceId) ?? true) - Number(healthy.get(a.instanceId) ?? true);
    return health !== 0 ? health : a.active / a.capacity - b.active / b.capacity;
  });
  return candidates[0]!.instanceId;
}

export async function submitScan(context: ServiceContext, scanType: ScanType, input: ScanInput, call: CallContext): Promise<SubmitScanOutput> {
  const { config, allowList } = context.setup();
  const poolName = input.scanner_pool ?? config.default_pool;
  const pool = findPool(config, poolName);
  if (!pool) {
    throw new AppError('invalid_argument', `scanner_pool: '${poolName}' does not exist (pools: ${config.pools.map((p) => p.name).join(', ')})`, {
      details: { field: 'scanner_pool', pools: config.pools.map((p) => p.name) },
    });
  }
  if (input.scanner_instance !== undefined) {
    const instance = pool.instances.find((i) => i.instance_id === input.scanner_instance);
    if (!instance) {
      throw new AppError('invalid_argument', `scanner_instance: '${input.scanner_instance}' is not in pool '${pool.name}' (instances: ${pool.instances.map((i) => i.instance_id).join(', ')})`, {
        details: { field: 'scanner_instance', instances: pool.instances.map((i) => i.instance_id) },
      });
    }
    if (!instance.enabled) throw new AppError('scanner_unavailable', `scanner_instance: '${instance.instance_id}' is disabled in the scanner configuration`, { details: { field: 'scanner_instance' } });
  }

  const name = checkText('name', input.name, config.limits.max_name_length, false, true);
  const description = input.description === undefined ? null : checkText('description', input.description, config.limits.max_description_length, true, false) || null;
  const parsed = parseTargets(input.targets, { maxAddresses: config.limits.max_addresses_per_scan });
  assertInScope(parsed.targets, allowList);
  // A client's own allowed_targets (access file) can only narrow the global list.
  if (call.principal.allowList !== null) assertInScope(parsed.targets, call.principal.allowList);
  const secrets = credentialsOf(scanType, input);

  const instanceId = input.scanner_instance ?? (await pickInstance(context, pool.name));
  if (input.dry_run === true) {
    return dryRunAnswer(context, call, { scanType, pool: pool.name, instanceId, pinned: input.scanner_instance !== undefined, addressCount: parsed.addressCount, narrowed: call.principal.allowList !== null });
  }
  const now = new Date();
  const taskId = newTaskId(pool.name, instanceId, now);
  const task: Task = {
    task_id: taskId,
    trace_id: call.traceId,
    scan_type: scanType,
    name,
    description,
    targets: parsed.targets.map((target) => target.text),
    target_count: parsed.addressCount,
    scanner_pool: pool.name,
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
    has_credentials: secrets !== null,
    idempotency_key_hash: null,
    cancel_requested: false,
    results_summary: null,
  };
  const job: ScanJobData = {
    task_id: taskId,
    trace_id: call.traceId,
    pool: pool.name,
    instance_pinned: input.scanner_instance ?? null,
    scan_type: scanType,
    name,
    description,
    targets: task.targets,
    // Encrypted before anything reaches Redis; the task id is the AES-GCM additional data.
    credentials: secrets === null ? null : sealScanCredentials(context.credentialsKey, secrets, taskId),
  };

  // Keys are per client: another client reusing a key it saw (in a log, a shared script) gets its
  // own scan, and cannot learn from replay-or-conflict whether its guess of the other request's
  // SSH password was right.
  const keyHash = input.idempotency_key === undefined ? undefined : createHmac('sha256', context.credentialsKey).update(`${call.principal.name}\n${input.idempotency_key}`).digest('hex');
  const hash = paramsHash(scanType, input, context.credentialsKey);
  if (keyHash !== undefined) task.idempotency_key_hash = keyHash;
  const created = await context.tasks.create(task, {
    ...(keyHash !== undefined ? { idempotencyKeyHash: keyHash } : {}),
    paramsHash: hash,
    idempotencyTtlSeconds: config.retention.idempotency_hours * 3600,
    jobPayload: job,
  });

  if (!created.created) {
    if (created.paramsHash !== hash) {
      throw new AppError('conflict', `idempotency_key: was already used for task ${created.task.task_id} with different parameters; use a new key for a different scan`, {
        details: { field: 'idempotency_key', task_id: created.task.task_id },
      });
    }
    const existing = created.task;
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

  // The task record (with its job payload) exists before the job: if this add is lost, the
  // worker's reconcile-queued housekeeping re-enqueues the task from that payload.
  await context.queues.forPool(pool.name).add('scan', job, { jobId: taskId });
  const estimate = await describeQueued(context, task);
  call.logger.info({ task_id: taskId, scan_type: scanType, scanner_pool: pool.name, scanner_instance: instanceId, target_count: parsed.addressCount }, 'scan queued');
  const wait = estimate.estimated_wait_minutes === null ? 'unknown' : estimate.estimated_wait_minutes === 0 ? 'none' : `about ${estimate.estimated_wait_minutes} min`;
  return {
    task_id: taskId,
    trace_id: call.traceId,
    status: 'queued',
    scanner_pool: pool.name,
    scanner_instance: instanceId,
    queue_position: estimate.queue_position,
    estimated_wait_minutes: estimate.estimated_wait_minutes,
    idempotent_replay: false,
    message:
      `Scan of ${parsed.addressCount} address(es) queued as ${taskId} (position ${estimate.queue_position ?? '-'}, expected wait ${wait}; ${estimate.basis}). ` +
      'Poll get_scan_status with this task_id; when it is completed, read findings with get_scan_results.',
  };
}
