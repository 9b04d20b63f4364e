import { isTerminal } from '@nessus-mcp/core';
import { delayJobUntil, recordState, type ScanStepContext } from './scan-step-context.js';
import { TaskAlreadyFinished } from './scan-interruptions.js';

/**
 * Reserves a slot on a scanner instance (atomically in Redis, so `max_concurrent_scans` holds
 * across every worker process) and marks the task running. Runs on every pickup: reserving is
 * idempotent per task, and after a retry from the failed set (which released the slot) it takes
 * one again. When every instance is busy the job waits in the delayed set, using no attempt.
 */
export async function selectInstance(ctx: ScanStepContext): Promise<void> {
  const { deps, state } = ctx;
  // Once a scan may exist on an instance, only that instance can continue it.
  const mustStayOn = state.nessus_scan_id || state.create_requested_at ? state.instance_id : undefined;
  const preferred = mustStayOn ?? ctx.job.data.instance_pinned ?? undefined;
  const selection = await deps.registry().selectInstance(ctx.pool, ctx.taskId, preferred);
  if (!selection) {
    const since = state.waiting_for_capacity_since ?? new Date().toISOString();
    if (!state.waiting_for_capacity_since) ctx.log.info({ scanner_pool: ctx.pool, preferred: preferred ?? null }, 'every scanner instance is busy; waiting for a free slot');
    await recordState(ctx, { waiting_for_capacity_since: since });
    const { poll_min_ms } = deps.config().scans;
    // Jitter keeps a crowd of waiting jobs from asking at the same instant.
    return delayJobUntil(ctx, Date.now() + poll_min_ms + Math.floor(Math.random() * poll_min_ms));
  }
  ctx.scanner = selection.scanner;
  const instanceId = selection.instanceId;
  if (state.step === 'select' || !state.started_at || state.instance_id !== instanceId) {
    await recordState(ctx, {
      step: state.step === 'select' ? 'create' : state.step,
      instance_id: instanceId,
      started_at: state.started_at ?? new Date().toISOString(),
      waiting_for_capacity_since: undefined,
    });
  }
  if (ctx.task.status !== 'running') {
    const startedAt = ctx.task.started_at ?? ctx.state.started_at ?? new Date().toISOString();
    const { applied, previous } = await deps.tasks.update(ctx.taskId, { status: 'running', started_at: startedAt, scanner_instance: instanceId }, ['queued']);
    if (!applied) {
      // The gateway cancelled the waiting task, or housekeeping ended it, while this job was picked up.
      if (previous && isTerminal(previous)) throw new TaskAlreadyFinished(previous as TaskAlreadyFinished['status']);
      if (previous !== 'running') throw new Error(`task ${ctx.taskId} is '${previous ?? 'missing'}', cannot start it`);
    }
    ctx.task = { ...ctx.task, status: 'running', started_at: startedAt, scanner_instance: instanceId };
    ctx.log.info({ scanner_instance: instanceId, waited_since: state.waiting_for_capacity_since ?? null }, 'scan started on scanner instance');
  }
}
