import type { AppError, ScanJobResult, Task } from '@nessus-mcp/core';
import { historyEntryOf } from './history-entry.js';
import type { ScanOutcome } from '../worker-metrics.js';
import { resultFiguresOf, type ResultSummary } from '@nessus-mcp/results';
import type { ScanStepContext } from './scan-step-context.js';

/** A stop must never hold up a cancel past its 5 s promise: Nessus gets this long to answer. */
const STOP_TIMEOUT_MS = 3000;

/**
 * The terminal transitions. Each one is a compare-and-set from a live status, frees the task's
 * scanner slot and counts the outcome; a second run of the same transition (a job picked up
 * again after a crash) changes nothing.
 */
export async function completeScan(ctx: ScanStepContext, summary: ResultSummary): Promise<ScanJobResult> {
  if (ctx.job.data.scan_type !== 'untrusted' && summary.authentication_status === 'failed') return failAuthentication(ctx, summary);
  const now = new Date();
  const indexed = await historyEntryOf(ctx, now, summary);
  const figures = resultFiguresOf(summary);
  const applied = await finishTask(ctx, 'completed', { completed_at: now.toISOString(), results_summary: figures, progress: 100, error: null }, indexed);
  if (applied) {
    const started = Date.parse(ctx.task.started_at ?? ctx.state.started_at ?? '');
    if (Number.isFinite(started)) await ctx.deps.tasks.recordDuration(ctx.pool, (now.getTime() - started) / 1000);
  }
  await ctx.job.updateData({ ...ctx.job.data, state: { ...ctx.state, step: 'complete' } });
  return { task_id: ctx.taskId, status: 'completed', summary: figures };
}

/**
 * A credentialed scan whose SSH login failed on every host ran only unauthenticated checks: calling
 * it `completed` would let a caller believe it got a credentialed audit.
 * It ends `failed` with the reason, while its results stay readable. The job itself succeeds: a
 * retry with the same credentials cannot do better.
 */
async function failAuthentication(ctx: ScanStepContext, summary: ResultSummary): Promise<ScanJobResult> {
  const hosts = summary.hosts_scanned;
  const figures = resultFiguresOf(summary);
  await finishTask(ctx, 'failed', {
    completed_at: new Date().toISOString(),
    results_summary: figures,
    progress: 100,
    error: {
      code: 'authentication_failed',
      message: `The SSH login failed on ${hosts === 1 ? 'the host' : `all ${hosts} hosts`}, so only unauthenticated checks ran; check the username, password or key, the SSH port and that the account may log in (see troubleshooting). The partial results are still readable with get_scan_results.`,
    },
  });
  await ctx.job.updateData({ ...ctx.job.data, state: { ...ctx.state, step: 'complete' } });
  return { task_id: ctx.taskId, status: 'failed', summary: figures };
}

export async function cancelScan(ctx: ScanStepContext): Promise<ScanJobResult> {
  await stopNessusScan(ctx, 'cancelled');
  await finishTask(ctx, 'cancelled', { completed_at: new Date().toISOString() });
  return { task_id: ctx.taskId, status: 'cancelled', summary: null };
}

export async function timeOutScan(ctx: ScanStepContext, limitMinutes: number): Promise<ScanJobResult> {
  await stopNessusScan(ctx, 'timed out');
  await finishTask(ctx, 'timeout', {
    completed_at: new Date().toISOString(),
    error: {
      code: 'timeout',
      message: `The scan ran longer than its ${limitMinutes}-minute limit (scans.timeout_minutes in scanners.yaml) and was stopped on Nessus; narrow the targets or raise the limit.`,
    },
  });
  return { task_id: ctx.taskId, status: 'timeout', summary: null };
}

/** Marks the task failed with the error's own message (written to be acted on, free of secrets). */
export async function failScan(ctx: ScanStepContext, error: AppError): Promise<void> {
  // A scan left running on Nessus would hold scanner capacity this system no longer counts.
  await stopNessusScan(ctx, 'failed');
  await finishTask(ctx, 'failed', { completed_at: new Date().toISOString(), error: { code: error.code, message: error.message } });
}

/** The task already ended elsewhere (cancelled while waiting, timed out by housekeeping): just settle the job. */
export async function settleFinishedTask(ctx: ScanStepContext, status: ScanJobResult['status']): Promise<ScanJobResult> {
  await releaseSlot(ctx);
  const task = await ctx.deps.tasks.get(ctx.taskId);
  return { task_id: ctx.taskId, status, summary: task?.results_summary ?? null };
}

async function finishTask(
  ctx: ScanStepContext,
  outcome: ScanOutcome,
  patch: Partial<Task>,
  indexed?: Parameters<ScanStepContext['deps']['tasks']['update']>[3],
): Promise<boolean> {
  const { applied, previous } = await ctx.deps.tasks.update(ctx.taskId, { status: outcome, ...patch }, ['queued', 'running'], indexed);
  await releaseSlot(ctx);
  if (applied) {
    const { metrics } = ctx.deps;
    metrics.scansFinished.inc({ pool: ctx.pool, outcome });
    const started = Date.parse(ctx.task.started_at ?? ctx.state.started_at ?? '');
    if (Number.isFinite(started)) metrics.scanDuration.observe({ pool: ctx.pool, outcome }, (Date.now() - started) / 1000);
    ctx.log.info({ status: outcome, nessus_scan_id: ctx.state.nessus_scan_id ?? null, ...(patch.error ? { error: patch.error } : {}) }, `scan ${outcome}`);
  } else {
    ctx.log.info({ status: previous, wanted: outcome }, 'task had already left its live status; outcome not applied');
  }
  return applied;
}

async function releaseSlot(ctx: ScanStepContext): Promise<void> {
  if (!ctx.state.instance_id) return;
  await ctx.deps.registry().release(ctx.pool, ctx.state.instance_id, ctx.taskId);
}

/** Best effort: the outcome stands even when Nessus cannot be reached; housekeeping retries the clean-up. */
async function stopNessusScan(ctx: ScanStepContext, why: string): Promise<void> {
  const scanId = ctx.state.nessus_scan_id;
  const instanceId = ctx.state.instance_id;
  if (!scanId || !instanceId) return;
  try {
    const scanner = ctx.deps.registry().getScanner(ctx.pool, instanceId);
    await scanner.stopScan(scanId, AbortSignal.timeout(STOP_TIMEOUT_MS));
    ctx.log.info({ nessus_scan_id: scanId, scanner_instance: instanceId }, `nessus scan stopped (${why})`);
  } catch (error) {
    ctx.log.warn(
      { nessus_scan_id: scanId, scanner_instance: instanceId, err: describeError(error) },
      `could not stop the nessus scan (${why}); housekeeping will clean it up`,
    );
  }
}

export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'NonError', message: String(error) };
}
