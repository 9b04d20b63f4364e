import { Queue, type ConnectionOptions, type DefaultJobOptions, type QueueOptions } from 'bullmq';
import type { EncryptedSecret } from './credentials.js';
import type { ResultFigures, ScanType } from './tasks.js';

/**
 * Queue names and job payloads shared by the producer (gateway) and the consumer (worker), so
 * neither can drift. One scan queue per scanner pool: BullMQ cannot count jobs by payload, and
 * per-pool counts are what `get_queue_status` reports.
 */
export const HOUSEKEEPING_QUEUE = 'housekeeping';
export const BULL_PREFIX = 'bull';

export function scanQueueName(pool: string): string {
  return `scans-${pool}`;
}

/** What a worker has recorded so far; every step reads it first, so a restarted job resumes. */
export interface ScanJobProgressState {
  step: 'select' | 'create' | 'launch' | 'poll' | 'export' | 'ingest' | 'done';
  instance_id?: string;
  nessus_scan_id?: string;
  launched_at?: string;
  started_at?: string;
  polls?: number;
  raw_status?: string;
  progress?: number;
  waiting_for_capacity_since?: string;
}

export interface ScanJobData {
  task_id: string;
  trace_id: string;
  pool: string;
  /** Set when the caller pinned an instance; otherwise the least-loaded one is chosen at run time. */
  instance_pinned: string | null;
  scan_type: ScanType;
  name: string;
  description: string | null;
  targets: string[];
  /** SSH/escalation secrets, only ever encrypted (AES-256-GCM, task id as additional data). */
  credentials: EncryptedSecret | null;
  state?: ScanJobProgressState;
}

export interface ScanJobResult {
  task_id: string;
  status: 'completed' | 'failed' | 'timeout' | 'cancelled';
  /** The figures the task record got (BullMQ keeps them as the job's return value). */
  summary: ResultFigures | null;
}

export type HousekeepingJobName = 'expire-tasks' | 'stop-stuck-scans' | 'reconcile-queued' | 'clean-nessus';
export interface HousekeepingJobData {
  trace_id?: string;
}

export interface ScanJobDefaults {
  attempts: number;
  backoffMs: number;
  deadLetterDays: number;
  completedDays: number;
}

export function scanJobOptions(defaults: ScanJobDefaults): DefaultJobOptions {
  return {
    attempts: defaults.attempts,
    // Jitter spreads retries of many scans that failed together (a Nessus restart) over time.
    backoff: { type: 'exponential', delay: defaults.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: defaults.completedDays * 86400, count: 10000 },
    // The failed set is the dead-letter store: keep it, bounded by age and count.
    removeOnFail: { age: defaults.deadLetterDays * 86400, count: 50000 },
  };
}

export function createScanQueue(pool: string, connection: ConnectionOptions, defaults: ScanJobDefaults, extra: Partial<QueueOptions> = {}): Queue<ScanJobData, ScanJobResult> {
  return new Queue<ScanJobData, ScanJobResult>(scanQueueName(pool), {
    connection,
    prefix: BULL_PREFIX,
    defaultJobOptions: scanJobOptions(defaults),
    ...extra,
  });
}

export function createHousekeepingQueue(connection: ConnectionOptions, extra: Partial<QueueOptions> = {}): Queue<HousekeepingJobData> {
  return new Queue<HousekeepingJobData>(HOUSEKEEPING_QUEUE, {
    connection,
    prefix: BULL_PREFIX,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 10000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
    ...extra,
  });
}
