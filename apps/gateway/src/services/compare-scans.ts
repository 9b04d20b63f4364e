import { AppError, anyTargetOverlaps, parseTarget, type Target } from '@nessus-mcp/core';
import { createHash } from 'node:crypto';
import { DELTA_CURSOR_KIND, diffFingerprints, renderDeltaPage, resolveCompareQuery, selectDelta, type CompareSide, type DeltaPage } from '@nessus-mcp/results';
import type { CompareScansInput } from '../schemas/tool-inputs.js';
import { comparisonCache, loadScan, type LoadedScan } from './scan-history.js';
import type { ServiceContext } from './service-context.js';

/** How many earlier scans `"previous"` looks at per round trip. */
const PREVIOUS_BATCH = 50;

function parsedTargets(targets: readonly string[]): Target[] {
  const parsed: Target[] = [];
  for (const token of targets) {
    try {
      parsed.push(parseTarget(token));
    } catch {
      // A stored token the current parser refuses cannot overlap anything.
    }
  }
  return parsed;
}

/** The most recent completed scan before `next` whose targets overlap its targets. */
async function previousOf(context: ServiceContext, next: LoadedScan): Promise<string> {
  const wanted = parsedTargets(next.targets);
  for (let offset = 0; ; offset += PREVIOUS_BATCH) {
    const batch = await context.tasks.index.completedBefore(next.completed_ms, offset, PREVIOUS_BATCH);
    const records = await context.tasks.index.records(batch.map((entry) => entry.task_id));
    for (const { task_id: id } of batch) {
      const record = records.get(id);
      if (id !== next.task_id && record && wanted.some((target) => anyTargetOverlaps(record.targets, target))) return id;
    }
    if (batch.length < PREVIOUS_BATCH) break;
  }
  throw new AppError(
    'not_found',
    `base_task_id: "previous" found no completed scan before task ${next.task_id} whose targets overlap ${next.targets.join(', ')}; pass a task id instead (list_tasks with target= finds earlier scans)`,
    { details: { field: 'base_task_id', task_id: next.task_id } },
  );
}

function notesOf(base: LoadedScan, next: LoadedScan): string[] {
  const notes: string[] = [];
  if (base.task_id === next.task_id) notes.push('base and task are the same scan: every finding persists.');
  if (base.scan_type !== next.scan_type) {
    notes.push(`base is a ${base.scan_type} scan and task a ${next.scan_type} one: findings that need a login can show as new or fixed for that reason alone.`);
  }
  if (base.completed_ms > next.completed_ms) notes.push('base completed after task: "new" means only in task, "fixed" only in base.');
  for (const [role, scan] of [
    ['base', base],
    ['task', next],
  ] as const) {
    if (!scan.store) {
      notes.push(
        `${role} ${scan.task_id}: only its fingerprint remains (full results expired after retention.completed_days); its findings carry identity, severity, plugin name and CVEs only.`,
      );
    }
  }
  return notes;
}

function sideOf(scan: LoadedScan): CompareSide {
  return { task_id: scan.task_id, completed_at: scan.completed_at, fingerprints: scan.fingerprints, store: scan.store };
}

/**
 * compare_scans: what is new, fixed, not rescanned, persisting or changed in `task_id` since
 * `base_task_id`. Joins the two fingerprints (cached), filters and orders the delta (cached per
 * query), then reads only the page's records. The returned page has its counts at once; its
 * lines render when iterated.
 */
export async function compareScans(context: ServiceContext, input: CompareScansInput): Promise<DeltaPage> {
  const { task_id: taskId, base_task_id: baseTaskId, ...query } = input;
  const codec = context.results.cursorCodec;
  const resolved = resolveCompareQuery(query, { codec, scope: taskId });
  if (resolved.cursorBase !== null && baseTaskId !== 'previous' && baseTaskId !== resolved.cursorBase) {
    throw new AppError(
      'invalid_argument',
      `cursor: it continues the comparison with base ${resolved.cursorBase}, not ${baseTaskId}; pass that base or "previous"`,
      {
        details: { field: 'cursor', differs: 'base_task_id' },
      },
    );
  }
  const next = await loadScan(context, taskId, 'task_id');
  // A cursor keeps the base it was issued with: "previous" may name a newer scan by now.
  const baseId = resolved.cursorBase ?? (baseTaskId === 'previous' ? await previousOf(context, next) : baseTaskId);
  const base = await loadScan(context, baseId, 'base_task_id');
  const cache = comparisonCache(context);
  const deltaKey = `${base.identity}|${next.identity}`;
  const pair = createHash('sha256').update(deltaKey).digest('base64url').slice(0, 22);
  if (resolved.query.cursorStore !== null && resolved.query.cursorStore !== pair) {
    throw new AppError(
      'conflict',
      'cursor: one of the two scans was ingested again or its full results expired since this cursor was issued, so its pages no longer line up; start again from page 1',
      { details: { field: 'cursor' } },
    );
  }
  const delta = cache.delta(deltaKey, () => diffFingerprints(base.fingerprints, next.fingerprints));
  const [baseSide, nextSide] = [sideOf(base), sideOf(next)];
  const selectionKey = JSON.stringify([
    deltaKey,
    base.store?.manifest.store_id ?? null,
    next.store?.manifest.store_id ?? null,
    Object.entries(resolved.query.filters.normalised).sort(([a], [b]) => (a < b ? -1 : 1)),
    resolved.query.sort?.key ?? null,
    resolved.changes,
  ]);
  const selection = await cache.selection(selectionKey, () => selectDelta(baseSide, nextSide, delta, resolved));
  const nextCursor = (page: number): string =>
    codec.encode({ kind: DELTA_CURSOR_KIND, scope: taskId, store: pair, page, query: { ...resolved.query.cursorQuery, c: resolved.changes, b: base.task_id } });
  return renderDeltaPage(selection, delta, resolved, { base: baseSide, next: nextSide, notes: notesOf(base, next) }, nextCursor);
}
