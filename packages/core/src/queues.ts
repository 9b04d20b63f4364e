import {
  Queue,
  UnrecoverableError,
  type ConnectionOptions,
  type DefaultJobOptions,
  type Job,
  type JobsOptions,
  type Processor,
  type QueueOptions,
} from 'bullmq';
import { z } from 'zod';
import type { EncryptedSecret } from './credentials.js';
import type { ResultFigures } from './tasks.js';
import type { Logger } from './logger.js';
import { SCAN_TYPES, TASK_ID_PATTERN } from './tasks.js';
import { AppError } from './errors.js';
import { DEFAULT_REDIS_NAMESPACE } from './redis-keys.js';
import { zodIssuesToError } from './zod-issues.js';

/**
 * Every queue both apps use, declared once: its name, job names, payload schema and default job
 * options. The gateway (producer) and the worker (consumer) build their `Queue`s from here, and
 * the payload is checked where a job is added and again where it is processed, so neither side
 * can drift. One scan queue per scanner pool: BullMQ cannot count jobs by payload, and per-pool
 * counts are what `get_queue_status` reports.
 */
export const BULL_PREFIX = DEFAULT_REDIS_NAMESPACE.queuePrefix;

/** The scan pipeline's steps in order; a job's state records the next one to run ('complete' once it ran). */
export const SCAN_STEPS = ['select', 'create', 'launch', 'poll', 'export', 'ingest', 'complete'] as const;
export type ScanStep = (typeof SCAN_STEPS)[number];

const encryptedSecretSchema: z.ZodType<EncryptedSecret> = z.strictObject({
  v: z.literal(1),
  alg: z.literal('A256GCM'),
  iv: z.string().min(1),
  tag: z.string().min(1),
  ct: z.string().min(1),
});

/**
 * What a worker has recorded so far; every step reads it first, so a restarted job resumes.
 * Loose: the worker adds its own bookkeeping fields next to these.
 */
const scanJobStateSchema = z.looseObject({
  step: z.enum(SCAN_STEPS),
  instance_id: z.string().optional(),
  nessus_scan_id: z.string().optional(),
  launched_at: z.string().optional(),
  started_at: z.string().optional(),
  polls: z.number().optional(),
  raw_status: z.string().optional(),
  progress: z.number().optional(),
  waiting_for_capacity_since: z.string().optional(),
});
export type ScanJobProgressState = z.infer<typeof scanJobStateSchema>;

export const scanJobDataSchema = z.strictObject({
  task_id: z.string().regex(TASK_ID_PATTERN, 'is not a task id'),
  trace_id: z.string().min(1),
  pool: z.string().min(1),
  /** Set when the caller pinned an instance; otherwise the least-loaded one is chosen at run time. */
  instance_pinned: z.string().min(1).nullable(),
  scan_type: z.enum(SCAN_TYPES),
  name: z.string(),
  description: z.string().nullable(),
  targets: z.array(z.string().min(1)).min(1),
  /** SSH/escalation secrets, only ever encrypted (AES-256-GCM, task id as additional data): clear text is refused. */
  credentials: encryptedSecretSchema.nullable(),
  state: scanJobStateSchema.optional(),
});
export type ScanJobData = z.infer<typeof scanJobDataSchema>;

export interface ScanJobResult {
  task_id: string;
  status: 'completed' | 'failed' | 'timeout' | 'cancelled';
  /** The figures the task record got (BullMQ keeps them as the job's return value). */
  summary: ResultFigures | null;
}

export const HOUSEKEEPING_JOB_NAMES = ['expire-tasks', 'stop-stuck-scans', 'reconcile-queued', 'clean-nessus'] as const;
export type HousekeepingJobName = (typeof HOUSEKEEPING_JOB_NAMES)[number];
export const housekeepingJobDataSchema = z.strictObject({ trace_id: z.string().optional() });
export type HousekeepingJobData = z.infer<typeof housekeepingJobDataSchema>;

export interface ScanJobDefaults {
  attempts: number;
  backoffMs: number;
  deadLetterDays: number;
  completedDays: number;
}

/** One queue's declaration. `jobNames` are the only names a job of this queue may carry. */
export interface QueueDefinition<Data, JobName extends string> {
  jobNames: readonly JobName[];
  payload: z.ZodType<Data>;
}

export const SCAN_QUEUE = {
  queueName: (pool: string): string => `scans-${pool}`,
  jobNames: ['scan'] as const,
  payload: scanJobDataSchema,
  defaultJobOptions: (defaults: ScanJobDefaults): DefaultJobOptions => ({
    attempts: defaults.attempts,
    // Jitter spreads retries of many scans that failed together (a Nessus restart) over time.
    backoff: { type: 'exponential', delay: defaults.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: defaults.completedDays * 86400, count: 10000 },
    // The failed set is the dead-letter store: keep it, bounded by age and count.
    removeOnFail: { age: defaults.deadLetterDays * 86400, count: 50000 },
  }),
} satisfies QueueDefinition<ScanJobData, 'scan'> & Record<string, unknown>;

export const HOUSEKEEPING_QUEUE_DEFINITION = {
  queueName: 'housekeeping',
  jobNames: HOUSEKEEPING_JOB_NAMES,
  payload: housekeepingJobDataSchema,
  defaultJobOptions: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 10000 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 500 },
  } satisfies DefaultJobOptions,
} satisfies QueueDefinition<HousekeepingJobData, HousekeepingJobName> & Record<string, unknown>;

export const HOUSEKEEPING_QUEUE = HOUSEKEEPING_QUEUE_DEFINITION.queueName;

export function scanQueueName(pool: string): string {
  return SCAN_QUEUE.queueName(pool);
}

/**
 * What is wrong with a job against its queue's declaration, or null: the text names the queue,
 * the job and each wrong field, never a value (job data can hold a sealed secret).
 */
export function jobPayloadProblem<Data, JobName extends string>(
  definition: QueueDefinition<Data, JobName>,
  queueName: string,
  jobName: string,
  data: unknown,
): string | null {
  if (!(definition.jobNames as readonly string[]).includes(jobName)) {
    return `queue ${queueName}: job name '${jobName}' is not one of ${definition.jobNames.join(', ')}`;
  }
  const result = definition.payload.safeParse(data);
  if (result.success) return null;
  return `queue ${queueName}: job '${jobName}' has a payload that does not match its schema (${zodIssuesToError(result.error.issues).message})`;
}

/** Refuses to add a job its queue does not allow: a producer bug, reported before anything reaches Redis. */
function assertJobPayload<Data, JobName extends string>(definition: QueueDefinition<Data, JobName>, queueName: string, jobName: string, data: unknown): void {
  const problem = jobPayloadProblem(definition, queueName, jobName, data);
  if (problem !== null) throw new AppError('internal', problem);
}

/**
 * Wraps a processor so a job whose payload fails its schema fails at once and for good
 * (UnrecoverableError skips the remaining attempts) instead of running on bad data.
 */
export function checkedProcessor<Data, Result, JobName extends string>(
  definition: QueueDefinition<Data, JobName>,
  processor: Processor<Data, Result, JobName>,
): Processor<Data, Result, JobName> {
  // Three declared parameters: BullMQ only passes the abort signal to processors that take it.
  return async (job: Job<Data, Result, JobName>, token?: string, signal?: AbortSignal) => {
    const problem = jobPayloadProblem(definition, job.queueName, job.name, job.data);
    if (problem !== null) throw new UnrecoverableError(`${problem}; the job cannot run`);
    return processor(job, token, signal);
  };
}

/**
 * A queue without an 'error' listener turns a Redis hiccup into an unhandled 'error' event that
 * kills the process (Node's EventEmitter rule); every registry queue gets one that logs instead.
 */
function guardQueue<Q extends Queue>(queue: Q, logger: Pick<Logger, 'warn'>): Q {
  queue.on('error', (error: Error) => logger.warn({ queue: queue.name, err: error.message }, 'queue connection error'));
  return queue;
}

/** A scan queue that refuses, at `add`, a job its declaration does not allow. */
export class ScanQueue extends Queue<ScanJobData, ScanJobResult, 'scan'> {
  override async add(name: 'scan', data: ScanJobData, opts?: JobsOptions): ReturnType<Queue<ScanJobData, ScanJobResult, 'scan'>['add']> {
    assertJobPayload(SCAN_QUEUE, this.name, name, data);
    return super.add(name, data, opts);
  }

  override async addBulk(
    jobs: Parameters<Queue<ScanJobData, ScanJobResult, 'scan'>['addBulk']>[0],
  ): ReturnType<Queue<ScanJobData, ScanJobResult, 'scan'>['addBulk']> {
    for (const job of jobs) assertJobPayload(SCAN_QUEUE, this.name, job.name, job.data);
    return super.addBulk(jobs);
  }
}

/** The housekeeping queue, checked the same way. */
export class HousekeepingQueue extends Queue<HousekeepingJobData, unknown, HousekeepingJobName> {
  override async add(
    name: HousekeepingJobName,
    data: HousekeepingJobData,
    opts?: JobsOptions,
  ): ReturnType<Queue<HousekeepingJobData, unknown, HousekeepingJobName>['add']> {
    assertJobPayload(HOUSEKEEPING_QUEUE_DEFINITION, this.name, name, data);
    return super.add(name, data, opts);
  }
}

export interface QueueBuildOptions {
  logger: Pick<Logger, 'warn'>;
  /** BullMQ's key prefix (`RedisNamespace.queuePrefix`); default BULL_PREFIX. */
  prefix?: string;
  extra?: Partial<QueueOptions>;
}

export function createScanQueue(pool: string, connection: ConnectionOptions, defaults: ScanJobDefaults, options: QueueBuildOptions): ScanQueue {
  const queue = new ScanQueue(SCAN_QUEUE.queueName(pool), {
    connection,
    prefix: options.prefix ?? BULL_PREFIX,
    defaultJobOptions: SCAN_QUEUE.defaultJobOptions(defaults),
    ...options.extra,
  });
  return guardQueue(queue, options.logger);
}

export function createHousekeepingQueue(connection: ConnectionOptions, options: QueueBuildOptions): HousekeepingQueue {
  const queue = new HousekeepingQueue(HOUSEKEEPING_QUEUE, {
    connection,
    prefix: options.prefix ?? BULL_PREFIX,
    defaultJobOptions: HOUSEKEEPING_QUEUE_DEFINITION.defaultJobOptions,
    ...options.extra,
  });
  return guardQueue(queue, options.logger);
}
