import { AppError, assertInScope, compileAllowList, parseTargets, type AllowList } from '@nessus-mcp/core';
import type { ScanStepContext } from './scan-step-context.js';

// Compiled once per allowed_targets list: a reload gives a new array, so the cache follows it.
const allowLists = new WeakMap<readonly string[], AllowList>();

function allowListOf(entries: readonly string[]): AllowList {
  let compiled = allowLists.get(entries);
  if (!compiled) {
    compiled = compileAllowList(entries);
    allowLists.set(entries, compiled);
  }
  return compiled;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** The first field in which the job's payload departs from the task record the gateway approved. */
function tamperedField(ctx: ScanStepContext): string | null {
  const { data } = ctx.job;
  const { task } = ctx;
  if (data.task_id !== ctx.taskId || ctx.job.id !== ctx.taskId) return 'task_id';
  if (!Array.isArray(data.targets) || !data.targets.every((t) => typeof t === 'string') || !sameList(data.targets, task.targets)) return 'targets';
  if (data.pool !== task.scanner_pool) return 'pool';
  if (data.scan_type !== task.scan_type) return 'scan_type';
  const pinned = data.instance_pinned ?? null;
  if ((pinned !== null) !== task.instance_pinned || (pinned !== null && pinned !== task.scanner_instance)) return 'instance_pinned';
  return null;
}

/**
 * Runs before a Nessus scan is created. Job data is writable by anyone who can reach BullMQ
 * (Bull Board's "update data", a Redis client), while the task record holds what the gateway
 * checked at submission: the job must still say the same thing, and its targets must still be
 * inside today's allow-list and address limit (a reload may have narrowed them since). A mismatch
 * is never retried: the task fails `out_of_scope` and the audit trail records it.
 */
export async function verifyJobScope(ctx: ScanStepContext): Promise<void> {
  const config = ctx.deps.config();
  const field = tamperedField(ctx);
  let refusal: AppError | null = null;
  if (field !== null) {
    refusal = new AppError(
      'out_of_scope',
      `The queued job's ${field} no longer matches the task as submitted (the job data was edited after submission); the scan was not started. Submit a new scan instead of editing the job.`,
      {
        details: { field },
      },
    );
  } else {
    try {
      const parsed = parseTargets(ctx.job.data.targets, { maxAddresses: config.limits.max_addresses_per_scan });
      assertInScope(parsed.targets, allowListOf(config.allowed_targets));
    } catch (error) {
      const reason = error instanceof AppError ? error.message : String(error);
      refusal = new AppError('out_of_scope', `The task's targets are no longer allowed (${reason}); the scan was not started.`, {
        details: { field: 'targets' },
      });
    }
  }
  if (refusal === null) return;
  ctx.log.warn(
    { code: refusal.code, field: refusal.details?.field, job_targets: ctx.job.data.targets, task_targets: ctx.task.targets },
    'scan job refused before creating a Nessus scan',
  );
  await ctx.deps.audit.record({
    client: 'worker',
    action: 'scan.scope_violation',
    task_id: ctx.taskId,
    targets: Array.isArray(ctx.job.data.targets) ? ctx.job.data.targets.map(String) : null,
    outcome: 'out_of_scope',
    detail: field === null ? refusal.message : `job ${field} differs from the task record (task targets: ${ctx.task.targets.join(', ')})`,
  });
  throw refusal;
}
