import { AppError, type HistoryRecord, type Task } from '@nessus-mcp/core';
import { ComparisonCache, type Fingerprints, type ResultStore } from '@nessus-mcp/results';
import { notReadyFor } from './scan-results.js';
import { assertTaskId, type ServiceContext } from './service-context.js';

/*
 * Where the cross-scan services (compare_scans, search_findings) find a completed scan: its
 * task record and full store while retained, else its history record and the fingerprint the
 * task's files keep for `retention.history_days`.
 */

const CACHES = new WeakMap<ServiceContext, ComparisonCache>();

/** One cache per service context (per gateway process), bounded. */
export function comparisonCache(context: ServiceContext): ComparisonCache {
  let cache = CACHES.get(context);
  if (!cache) {
    cache = new ComparisonCache();
    CACHES.set(context, cache);
  }
  return cache;
}

/** A completed scan as the cross-scan services see it. */
export interface ScanRef {
  task_id: string;
  name: string;
  scan_type: string;
  targets: string[];
  completed_at: string | null;
  completed_ms: number;
}

export interface LoadedScan extends ScanRef {
  fingerprints: Fingerprints;
  /** Identity of the fingerprint file (changes when it is rewritten or moved). */
  identity: string;
  /** The full store, or null when only the fingerprint remains. */
  store: ResultStore | null;
}

export function historyDays(context: ServiceContext): number {
  const { history_days, completed_days } = context.setup().config.retention;
  return Math.max(history_days, completed_days);
}

function refOf(task: Task | null, record: HistoryRecord | null, taskId: string): ScanRef {
  const completedAt = task?.completed_at ?? record?.completed_at ?? null;
  return {
    task_id: taskId,
    name: task?.name ?? record?.name ?? '',
    scan_type: task?.scan_type ?? record?.scan_type ?? '',
    targets: task?.targets ?? record?.targets ?? [],
    completed_at: completedAt,
    completed_ms: completedAt ? Date.parse(completedAt) : 0,
  };
}

/**
 * A completed scan with its fingerprint and, while retained, its store. `not_found` when neither
 * the task nor its history exists (naming the retention setting), `not_ready` when the task has
 * not completed.
 */
export async function loadScan(context: ServiceContext, taskId: string, field: string): Promise<LoadedScan> {
  assertTaskId(taskId);
  const [task, record] = await Promise.all([context.tasks.get(taskId), context.tasks.index.record(taskId)]);
  if (!task && !record) {
    throw new AppError(
      'not_found',
      `${field}: no task '${taskId}': it never existed, or it completed more than retention.history_days (${historyDays(context)}) days ago and its history was deleted; list_tasks shows current tasks`,
      { details: { field, task_id: taskId } },
    );
  }
  if (task && task.status !== 'completed') throw notReadyFor(task);
  const stored = await context.files.findFingerprint(taskId);
  const loaded = await comparisonCache(context).fingerprints(taskId, stored);
  if (!loaded) {
    if (task) {
      throw new AppError(
        'not_ready',
        `${field}: task ${taskId} has no scan fingerprint yet (the worker writes it when it ingests the export; a store ingested by an older version has none)`,
        {
          details: { field, task_id: taskId },
        },
      );
    }
    throw new AppError('not_found', `${field}: the history of task ${taskId} is gone (retention.history_days is ${historyDays(context)} days)`, {
      details: { field, task_id: taskId },
    });
  }
  let store: ResultStore | null = null;
  if (task && stored?.kept === 'store') {
    try {
      store = await context.results.open(await context.files.resultStoreDirectory(taskId));
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'not_ready')) throw error;
    }
  }
  return { ...refOf(task, record, taskId), fingerprints: loaded.fingerprints, identity: loaded.identity, store };
}

/** The fingerprint of an indexed scan for search (no store needed); null when it is gone. */
export async function loadFingerprints(context: ServiceContext, taskId: string): Promise<Fingerprints | null> {
  return (await comparisonCache(context).fingerprints(taskId, await context.files.findFingerprint(taskId)))?.fingerprints ?? null;
}
