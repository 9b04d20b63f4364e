import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import {
  AppError,
  SCAN_QUEUE,
  checkedProcessor,
  isAppError,
  isStorageFailure,
  isTerminal,
  storageFailure,
  type ScanJobData,
  type ScanJobResult,
  type ScanStep,
} from '@nessus-mcp/core';
import { createScan } from './create-scan-step.js';
import { exportReport } from './export-report-step.js';
import { ingestResults } from './ingest-results-step.js';
import { launchScan } from './launch-scan-step.js';
import { pollScan } from './poll-scan-step.js';
import { readScanJobState } from './scan-job-state.js';
import { cancelScan, completeScan, describeError, failScan, settleFinishedTask, timeOutScan } from './scan-outcomes.js';
import { CANCEL_REASON, ScanCancelled, ScanTimedOut, TaskAlreadyFinished, scanDeadline } from './scan-interruptions.js';
import { delayJobUntil, recordState, type ScanPipelineDeps, type ScanStepContext } from './scan-step-context.js';
import { selectInstance } from './select-instance-step.js';
import { verifyJobScope } from './verify-job-scope.js';

/**
 * The BullMQ processor for `scans-<pool>` queues. One call runs the pipeline from wherever the
 * job's recorded state says it stopped: select instance → create → launch → poll (parks the job
 * in the delayed set between checks) → export → ingest → complete.
 */
export function createScanProcessor(deps: ScanPipelineDeps): Processor<ScanJobData, ScanJobResult, 'scan'> {
  // A payload that fails the queue's schema fails the job for good, before any scan starts.
  // Three declared parameters: BullMQ only passes the abort signal to processors that take it.
  return checkedProcessor(SCAN_QUEUE, (job, token, signal) => processScanJob(deps, job, token, signal));
}

async function processScanJob(
  deps: ScanPipelineDeps,
  job: Job<ScanJobData, ScanJobResult, 'scan'>,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ScanJobResult> {
  if (!token || !signal) throw new Error('BullMQ passed no lock token or abort signal to the scan processor');
  const taskId = job.data.task_id;
  const log = deps.logger.child({ task_id: taskId, trace_id: job.data.trace_id, attempt: job.attemptsMade + 1 });
  const task = await deps.tasks.get(taskId);
  if (!task) throw new UnrecoverableError(`task ${taskId} no longer exists (expired or deleted); nothing to scan`);
  const ctx: ScanStepContext = { job, token, signal, deps, log, taskId, pool: job.data.pool, task, state: readScanJobState(job.data), scanner: null };
  if (task.status === 'failed') await reopenRetriedTask(ctx);
  if (isTerminal(ctx.task.status)) return settleFinishedTask(ctx, ctx.task.status as ScanJobResult['status']);
  let parked = false;
  try {
    return await runPipeline(ctx);
  } catch (error) {
    parked = error instanceof DelayedError;
    return await handleInterruption(ctx, error);
  } finally {
    // Only a parked job (waiting for its next poll or a retry) still has a running scan to watch.
    if (!parked) deps.watcher?.unwatch(taskId);
  }
}

async function runPipeline(ctx: ScanStepContext): Promise<ScanJobResult> {
  // Before any slot is taken or scan created; once the scan exists its targets live on Nessus.
  if (!ctx.state.nessus_scan_id) await verifyJobScope(ctx);
  await runStep(ctx, 'select', selectInstance);
  if (ctx.state.step === 'create') await runStep(ctx, 'create', createScan);
  if (ctx.state.step === 'launch') await runStep(ctx, 'launch', launchScan);
  if (ctx.state.step === 'poll') await runStep(ctx, 'poll', pollScan);
  if (ctx.state.step === 'export') await runStep(ctx, 'export', exportReport);
  const summary = await runStep(ctx, 'ingest', ingestResults);
  return runStep(ctx, 'complete', (c) => completeScan(c, summary));
}

/** Checks the task is still wanted, then runs one step and times it. */
async function runStep<T>(ctx: ScanStepContext, name: ScanStep, step: (ctx: ScanStepContext) => Promise<T>): Promise<T> {
  await ensureStillWanted(ctx);
  const started = performance.now();
  let result = 'ok';
  const stepBefore = ctx.state.step;
  try {
    const value = await step(ctx);
    // A step that got the pipeline further clears the failure count of the one before it.
    if (ctx.state.failed_tries && ctx.state.step !== stepBefore) await recordState(ctx, { failed_tries: 0 });
    return value;
  } catch (error) {
    result = error instanceof DelayedError ? 'delayed' : 'error';
    throw error;
  } finally {
    ctx.deps.metrics.stepDuration.observe({ step: name, result }, (performance.now() - started) / 1000);
  }
}

async function ensureStillWanted(ctx: ScanStepContext): Promise<void> {
  if (ctx.signal.aborted) throw new ScanCancelled();
  const task = await ctx.deps.tasks.get(ctx.taskId);
  if (!task) throw new UnrecoverableError(`task ${ctx.taskId} was deleted while its scan ran`);
  ctx.task = task;
  if (task.cancel_requested) throw new ScanCancelled();
  if (isTerminal(task.status)) throw new TaskAlreadyFinished(task.status as ScanJobResult['status']);
  const { timeout_minutes } = ctx.deps.config().scans;
  const deadline = scanDeadline(task.started_at ?? ctx.state.started_at, timeout_minutes);
  if (deadline !== null && Date.now() >= deadline) throw new ScanTimedOut(timeout_minutes);
}

/**
 * A failed task whose job runs again was retried from the failed set (Bull Board, `job.retry()`):
 * it goes back to queued and resumes from the recorded state (a scan that ended on Nessus is
 * relaunched). Left terminal, a retry from the dead-letter store could never succeed.
 */
async function reopenRetriedTask(ctx: ScanStepContext): Promise<void> {
  const { applied } = await ctx.deps.tasks.update(ctx.taskId, { status: 'queued', error: null, completed_at: null, cancel_requested: false }, ['failed']);
  if (ctx.state.step === 'poll' && ctx.state.nessus_scan_id) {
    // A scan that failed while running was stopped on Nessus (or Nessus aborted it), so it cannot
    // be resumed: relaunch the same Nessus scan (a new run in its history), never create another.
    await recordState(ctx, { step: 'launch', launch_requested_at: undefined, launched_at: undefined, failed_tries: 0 });
  } else if (ctx.state.failed_tries) await recordState(ctx, { failed_tries: 0 });
  const task = await ctx.deps.tasks.get(ctx.taskId);
  if (task) ctx.task = task;
  if (applied)
    ctx.log.info({ resume_step: ctx.state.step, nessus_scan_id: ctx.state.nessus_scan_id ?? null }, 'failed task retried from the failed set; resuming');
}

async function handleInterruption(ctx: ScanStepContext, error: unknown): Promise<ScanJobResult> {
  if (error instanceof DelayedError || error instanceof UnrecoverableError) throw error;
  if (error instanceof TaskAlreadyFinished) return settleFinishedTask(ctx, error.status);
  if (error instanceof ScanTimedOut) return timeOutScan(ctx, error.limitMinutes);
  if (error instanceof ScanCancelled || (ctx.signal.aborted && ctx.signal.reason === CANCEL_REASON) || (await cancelRequested(ctx))) return cancelScan(ctx);
  const failure = classifyFailure(error);
  const { attempts, backoff_ms } = ctx.deps.config().scans;
  const tries = (ctx.state.failed_tries ?? 0) + 1;
  const retry = failure.retryable && tries < attempts;
  ctx.log.warn({ step: ctx.state.step, err: describeError(error), code: failure.code, retryable: failure.retryable, tries, attempts }, 'scan step failed');
  if (retry && failure.details?.status === 503) {
    // A 503 is how a Nessus that restarts answers while loading: check its health now, so the
    // retried job finds it `starting` and waits for it instead of spending its tries.
    await ctx.deps
      .registry()
      .health(ctx.pool, { refresh: true, signal: AbortSignal.timeout(5_000) })
      .catch(() => undefined);
  }
  if (retry) {
    // The step is retried as a delayed step job with exponential backoff and jitter. The budget
    // is per step, not BullMQ's per-job `attempts`: a day-long scan polls thousands of times, and
    // sporadic 5xx over its life must not add up to a failure. BullMQ's attempts remain the net
    // for errors outside this handler (Redis unreachable mid-step).
    await recordState(ctx, { failed_tries: tries });
    return delayJobUntil(ctx, Date.now() + retryDelay(tries, backoff_ms));
  }
  await recordState(ctx, { failed_tries: tries });
  const final = failure.retryable && failure.code === 'scanner_error' ? retriesExhausted(ctx, failure, tries) : failure;
  await failScan(ctx, final);
  throw new UnrecoverableError(final.message);
}

/**
 * A scanner that kept failing a step through its whole retry budget is unavailable as far as
 * this task can tell: the task says so, with the last failure, rather than carrying a transient
 * error code that suggests the next try would work.
 */
function retriesExhausted(ctx: ScanStepContext, failure: AppError, tries: number): AppError {
  const instance = ctx.state.instance_id ?? 'the scanner';
  return new AppError(
    'scanner_unavailable',
    `Nessus instance '${instance}' kept failing the ${ctx.state.step} step (${tries} tries, scans.attempts in scanners.yaml); last error: ${failure.message} Retry the job from the failed set (Bull Board) once the scanner is healthy.`,
    { retryable: false, ...(failure.details ? { details: failure.details } : {}) },
  );
}

/** backoff_ms, 2x, 4x, ... each scaled by a random 50-100% so scans that failed together spread out. */
export function retryDelay(tries: number, backoffMs: number): number {
  return Math.round(backoffMs * 2 ** (tries - 1) * (0.5 + Math.random() * 0.5));
}

async function cancelRequested(ctx: ScanStepContext): Promise<boolean> {
  const task = await ctx.deps.tasks.get(ctx.taskId);
  return task?.cancel_requested === true;
}

/**
 * Transient failures (network, 5xx, timeouts, Redis hiccups) are retried; the scanner package
 * marks which of its errors are. A malformed export never parses on a retry, and an unknown
 * error keeps its details in the log only: its text could carry paths or hosts.
 */
export function classifyFailure(error: unknown): AppError {
  if (isAppError(error)) return error;
  // Writing the export or the result store under DATA_DIR: a full disk must say so, not "internal error".
  if (isStorageFailure(error)) return storageFailure(error, "write this task's files");
  if (error instanceof Error && error.name === 'NessusParseError') {
    return new AppError('scanner_error', `Nessus produced an export that is not a well-formed .nessus document (${error.message}); submit the scan again.`, {
      retryable: false,
    });
  }
  return new AppError('internal', 'An internal error occurred while running the scan; see the worker logs (search by task id or trace id).', {
    retryable: true,
    cause: error,
  });
}
