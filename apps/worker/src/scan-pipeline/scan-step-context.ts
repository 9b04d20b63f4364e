import { DelayedError, type Job } from 'bullmq';
import type { AuditLog, Logger, ScanJobData, ScanJobResult, ScannersConfig, Task, TaskStore } from '@nessus-mcp/core';
import type { ResultSummary, TaskFiles } from '@nessus-mcp/results';
import type { Scanner, ScannerRegistry } from '@nessus-mcp/scanners';
import type { WorkerMetrics } from '../worker-metrics.js';
import type { ScanJobState } from './scan-job-state.js';
import type { ScanWatcher } from './scan-watcher.js';

/** Builds the task's result store from its export (`ingestExport` of @nessus-mcp/results; tests wrap it). */
export type IngestExport = (options: { files: TaskFiles; taskId: string; signal: AbortSignal; credentialed: boolean }) => Promise<ResultSummary>;

/** Everything the pipeline needs from the process; `registry()` and `config()` follow SIGHUP reloads. */
export interface ScanPipelineDeps {
  tasks: TaskStore;
  registry: () => ScannerRegistry;
  config: () => ScannersConfig;
  files: TaskFiles;
  credentialsKey: Buffer;
  ingest: IngestExport;
  metrics: WorkerMetrics;
  logger: Logger;
  audit: AuditLog;
  /** Wakes parked jobs when their scans end; null = each job polls on the adaptive schedule. */
  watcher?: ScanWatcher | null;
}

export interface ScanStepContext {
  readonly job: Job<ScanJobData, ScanJobResult>;
  readonly token: string;
  /** Aborted by `worker.cancelJob` when a cancel for this task reaches this process. */
  readonly signal: AbortSignal;
  readonly deps: ScanPipelineDeps;
  readonly log: Logger;
  readonly taskId: string;
  readonly pool: string;
  /** The task as read at pickup (status, started_at, cancel flag at that moment). */
  task: Task;
  state: ScanJobState;
  /** Set by the select step: the scanner holding this task's reservation. */
  scanner: Scanner | null;
}

/** Merges `patch` into the recorded state and writes it to the job before anything else happens. */
export async function recordState(ctx: ScanStepContext, patch: Partial<ScanJobState>): Promise<void> {
  ctx.state = { ...ctx.state, ...patch };
  await ctx.job.updateData({ ...ctx.job.data, state: ctx.state });
}

/**
 * Parks the job in the delayed set until `timestamp` without using an attempt (BullMQ's step-job
 * pattern: `moveToDelayed` must be followed by throwing DelayedError). A cancel that lands while
 * the job moves is caught by re-reading the flag afterwards and waking the job at once.
 */
export async function delayJobUntil(ctx: ScanStepContext, timestamp: number): Promise<never> {
  ctx.signal.throwIfAborted();
  await ctx.job.moveToDelayed(timestamp, ctx.token);
  const task = await ctx.deps.tasks.get(ctx.taskId);
  if (task?.cancel_requested) await ctx.job.promote().catch(() => undefined);
  throw new DelayedError();
}

export function requireScanner(ctx: ScanStepContext): Scanner {
  if (!ctx.scanner) throw new Error('pipeline order violated: no scanner selected before a scanner step');
  return ctx.scanner;
}

export function requireScanId(ctx: ScanStepContext): string {
  const scanId = ctx.state.nessus_scan_id;
  if (!scanId) throw new Error('pipeline order violated: no Nessus scan id recorded before a scan step');
  return scanId;
}
