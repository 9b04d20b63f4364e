import { setMaxListeners } from 'node:events';
import { isTerminal } from '@nessus-mcp/core';
import { delayJobUntil, recordState, type ScanStepContext } from './scan-step-context.js';
import { TaskAlreadyFinished } from './scan-interruptions.js';

const HEALTH_WAIT_MS = 5_000;

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
  // An instance that is starting (503 "loading" after a restart or plugin update) answers little
  // else: scans wait for it rather than spend their tries failing on it.
  const starting = await startingInstances(ctx);
  if (mustStayOn && starting.has(mustStayOn)) {
    // The scan (or its creation) lives there: wait for that instance, keeping the slot.
    ctx.log.info({ scanner_instance: mustStayOn, progress: starting.get(mustStayOn) ?? null }, "the scan's scanner instance is starting; waiting for it");
    return delayJobUntil(ctx, Date.now() + waitMs(ctx));
  }
  let selection = await deps.registry().selectInstance(ctx.pool, ctx.taskId, preferred, { exclude: new Set(starting.keys()) });
  if (selection && starting.has(selection.instanceId)) {
    // A reservation taken before the instance began starting: give the slot back while it loads.
    await deps.registry().release(ctx.pool, selection.instanceId, ctx.taskId);
    selection = null;
  }
  if (!selection) {
    const since = state.waiting_for_capacity_since ?? new Date().toISOString();
    if (!state.waiting_for_capacity_since) {
      const waitingOn = [...starting].map(([instance, progress]) => ({ instance, progress }));
      ctx.log.info(
        { scanner_pool: ctx.pool, preferred: preferred ?? null, starting: waitingOn },
        waitingOn.length > 0 ? 'no scanner instance is ready (some are starting); waiting' : 'every scanner instance is busy; waiting for a free slot',
      );
    }
    await recordState(ctx, { waiting_for_capacity_since: since });
    return delayJobUntil(ctx, Date.now() + waitMs(ctx));
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

/** Jitter keeps a crowd of waiting jobs from asking at the same instant. */
function waitMs(ctx: ScanStepContext): number {
  const { poll_min_ms } = ctx.deps.config().scans;
  return poll_min_ms + Math.floor(Math.random() * poll_min_ms);
}

/** Instances of the task's pool that report `starting`, with their progress (shared, cached health). */
async function startingInstances(ctx: ScanStepContext): Promise<Map<string, number | null>> {
  try {
    const signal = AbortSignal.timeout(HEALTH_WAIT_MS);
    // One signal bounds the check of every instance of the pool: past Node's default of 10
    // listeners (50 instances in the scale benchmark) it warned of a leak that is none.
    setMaxListeners(0, signal);
    const health = await ctx.deps.registry().health(ctx.pool, { signal });
    return new Map(health.filter((h) => h.status === 'starting').map((h) => [h.instanceId, h.serverProgress]));
  } catch (error) {
    // Health is advice here: without it, selection goes ahead as it always did.
    ctx.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'scanner health unavailable for selection');
    return new Map();
  }
}
