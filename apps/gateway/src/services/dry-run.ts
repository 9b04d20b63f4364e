import type { ScanType } from '@nessus-mcp/core';
import type { SubmitScanOutput } from '../schemas/tool-outputs.js';
import { estimateWait, positionForNewTask } from './queue-estimate.js';
import type { CallContext, ServiceContext } from './service-context.js';

export interface DryRunFacts {
  scanType: ScanType;
  pool: string;
  instanceId: string;
  pinned: boolean;
  addressCount: number;
  /** Whether the caller's own allowed_targets were checked too. */
  narrowed: boolean;
}

/**
 * What a submission that passed every check would do, without doing it: no task, no job, no
 * idempotency key claimed. Runs after the same checks as a real submission, so "it would pass"
 * means the same thing.
 */
export async function dryRunAnswer(context: ServiceContext, call: CallContext, facts: DryRunFacts): Promise<SubmitScanOutput> {
  const { fleet } = context.setup();
  const [position, load, durations] = await Promise.all([
    positionForNewTask(context.redis, context.tasks, context.queues.forPool(facts.pool)),
    fleet.load(facts.pool).catch(() => []),
    context.tasks.recentDurations(facts.pool),
  ]);
  const estimate = estimateWait(position, facts.pinned ? load.filter((instance) => instance.instanceId === facts.instanceId) : load, durations);
  const checks = [
    `scanner_pool '${facts.pool}' exists${facts.pinned ? ` and instance '${facts.instanceId}' is enabled` : ''}`,
    'name and description are valid',
    `targets parse and expand to ${facts.addressCount} address(es), within limits.max_addresses_per_scan`,
    "targets are inside the server's allowed_targets",
    ...(facts.narrowed ? [`targets are inside client '${call.principal.name}''s allowed_targets`] : []),
    ...(facts.scanType === 'untrusted' ? [] : ['SSH credentials are complete and well-formed']),
  ];
  const wait =
    estimate.estimated_wait_minutes === null ? 'unknown' : estimate.estimated_wait_minutes === 0 ? 'none' : `about ${estimate.estimated_wait_minutes} min`;
  call.logger.info({ scan_type: facts.scanType, scanner_pool: facts.pool, target_count: facts.addressCount }, 'dry run of a scan submission');
  return {
    task_id: null,
    trace_id: call.traceId,
    status: 'dry_run',
    scanner_pool: facts.pool,
    scanner_instance: facts.instanceId,
    queue_position: estimate.queue_position,
    estimated_wait_minutes: estimate.estimated_wait_minutes,
    idempotent_replay: false,
    message:
      `Dry run: a ${facts.scanType} scan of ${facts.addressCount} address(es) would be queued on ${facts.pool}/${facts.instanceId} at position ${estimate.queue_position ?? '-'} ` +
      `(expected wait ${wait}; ${estimate.basis}). Nothing was queued; call again without dry_run to start it.`,
    dry_run: { address_count: facts.addressCount, scope_checks_passed: checks },
  };
}
