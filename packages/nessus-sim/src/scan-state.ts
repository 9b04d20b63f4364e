import type { ScanOutcome } from './faults.js';
import type { ExpandedTargets } from './targets.js';

/** `info.status` values the simulator produces (docs/nessus-api.md §B.3.8). */
export type ScanStatus = 'empty' | 'pending' | 'running' | 'pausing' | 'paused' | 'resuming' | 'stopping' | 'canceled' | 'aborted' | 'completed';

export type RunStatus = Exclude<ScanStatus, 'empty'>;

const TERMINAL: ReadonlySet<ScanStatus> = new Set(['empty', 'canceled', 'aborted', 'completed']);

/** Share of the scan time after which an `aborted` outcome ends the run (partial results, as real aborts leave). */
const ABORT_AT = 0.6;

/**
 * One launch of a scan (one `history[]` entry). Time only moves when someone looks: every read
 * calls `advanceRun(run, now)`, so no timers are kept and an injected clock drives tests.
 */
export interface ScanRun {
  readonly historyId: number;
  readonly uuid: string;
  readonly launchedAtMs: number;
  readonly targets: ExpandedTargets;
  readonly altTargetsUsed: boolean;
  readonly durationMs: number;
  readonly outcome: ScanOutcome;
  /** Per host of `targets`: which scan of that address this run is (1 = first), for drift. */
  readonly hostRuns: readonly number[];
  /** The drift rate when the run was launched. */
  readonly drift: number;
  /** How long pending/pausing/resuming/stopping last. */
  readonly transitionMs: number;
  status: RunStatus;
  /** Running time accumulated before `runningSinceMs`. */
  activeMs: number;
  runningSinceMs: number | null;
  phaseEndsAtMs: number | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  lastChangeMs: number;
}

export function isTerminal(status: ScanStatus): boolean {
  return TERMINAL.has(status);
}

export function newRun(args: {
  historyId: number;
  uuid: string;
  now: number;
  targets: ExpandedTargets;
  altTargetsUsed: boolean;
  scanSeconds: number;
  outcome: ScanOutcome;
  hostRuns?: readonly number[];
  drift?: number;
}): ScanRun {
  const durationMs = Math.round(args.scanSeconds * 1000);
  const transitionMs = Math.min(1000, Math.round(durationMs * 0.1));
  return {
    historyId: args.historyId,
    uuid: args.uuid,
    launchedAtMs: args.now,
    targets: args.targets,
    altTargetsUsed: args.altTargetsUsed,
    durationMs,
    outcome: args.outcome,
    hostRuns: args.hostRuns ?? [],
    drift: args.drift ?? 0,
    transitionMs,
    status: 'pending',
    activeMs: 0,
    runningSinceMs: null,
    phaseEndsAtMs: args.now + transitionMs,
    startedAtMs: null,
    endedAtMs: null,
    lastChangeMs: args.now,
  };
}

function runLimitMs(run: ScanRun): number {
  return run.outcome === 'aborted' ? Math.round(run.durationMs * ABORT_AT) : run.durationMs;
}

/** Applies every transition due by `now` (B.4: pending → running → completed|aborted, etc.). */
export function advanceRun(run: ScanRun, now: number): void {
  for (;;) {
    const phaseEnd = run.phaseEndsAtMs;
    switch (run.status) {
      case 'pending':
      case 'resuming':
        if (phaseEnd === null || now < phaseEnd) return;
        run.status = 'running';
        run.runningSinceMs = phaseEnd;
        run.startedAtMs ??= phaseEnd;
        run.phaseEndsAtMs = null;
        run.lastChangeMs = phaseEnd;
        continue;
      case 'running': {
        const since = run.runningSinceMs ?? now;
        const finishAt = since + (runLimitMs(run) - run.activeMs);
        if (now < finishAt) return;
        run.activeMs = runLimitMs(run);
        run.runningSinceMs = null;
        run.status = run.outcome;
        run.endedAtMs = finishAt;
        run.lastChangeMs = finishAt;
        return;
      }
      case 'pausing':
        if (phaseEnd === null || now < phaseEnd) return;
        run.status = 'paused';
        run.phaseEndsAtMs = null;
        run.lastChangeMs = phaseEnd;
        return;
      case 'stopping':
        if (phaseEnd === null || now < phaseEnd) return;
        run.status = 'canceled';
        run.phaseEndsAtMs = null;
        run.endedAtMs = phaseEnd;
        run.lastChangeMs = phaseEnd;
        return;
      default:
        return;
    }
  }
}

function freeze(run: ScanRun, now: number): void {
  if (run.runningSinceMs !== null) {
    run.activeMs = Math.min(runLimitMs(run), run.activeMs + (now - run.runningSinceMs));
    run.runningSinceMs = null;
  }
}

export class StateConflict extends Error {
  override readonly name = 'StateConflict';
}

export function pauseRun(run: ScanRun, now: number): void {
  if (run.status !== 'running') throw new StateConflict(`Scan is ${run.status} and cannot be paused`);
  freeze(run, now);
  run.status = 'pausing';
  run.phaseEndsAtMs = now + run.transitionMs;
  run.lastChangeMs = now;
}

export function resumeRun(run: ScanRun, now: number): void {
  if (run.status !== 'paused') throw new StateConflict(`Scan is ${run.status} and cannot be resumed`);
  run.status = 'resuming';
  run.phaseEndsAtMs = now + run.transitionMs;
  run.lastChangeMs = now;
}

/**
 * Only a pending, running or resuming scan can be stopped (Tenable's scans-stop reference); a scan
 * a person paused in the UI answers 409 until it is resumed.
 */
export function stopRun(run: ScanRun, now: number): void {
  if (!['pending', 'running', 'resuming'].includes(run.status)) {
    throw new StateConflict(`Scan is ${run.status} and cannot be stopped`);
  }
  freeze(run, now);
  run.status = 'stopping';
  run.phaseEndsAtMs = now + run.transitionMs;
  run.lastChangeMs = now;
}

/** `kill` is allowed in any state (B.3.9); on an active run it cancels at once. */
export function killRun(run: ScanRun, now: number): void {
  if (isTerminal(run.status)) return;
  freeze(run, now);
  run.status = 'canceled';
  run.phaseEndsAtMs = null;
  run.endedAtMs = now;
  run.lastChangeMs = now;
}

/** Fraction (0–1) of the scan time already spent running. */
export function runProgress(run: ScanRun, now: number): number {
  if (run.durationMs === 0) return run.status === 'completed' ? 1 : 0;
  const running = run.runningSinceMs === null ? 0 : Math.max(0, now - run.runningSinceMs);
  return Math.min(1, (run.activeMs + running) / run.durationMs);
}

/**
 * Hosts are scanned in a staggered wave: host i of n starts at i/(2n) of the scan time and takes
 * half of it, so early hosts finish while later ones still progress, as on a real scanner.
 */
export function hostWindow(index: number, count: number): { start: number; end: number } {
  const start = count <= 1 ? 0 : (0.5 * index) / count;
  return { start, end: start + 0.5 };
}

/** Per-host progress (0–1) at overall progress `progress`. */
export function hostProgress(index: number, count: number, progress: number): number {
  const { start } = hostWindow(index, count);
  return Math.max(0, Math.min(1, (progress - start) / 0.5));
}

/** How many leading hosts had finished when the run ended (all of them for `completed`). */
export function finishedHostCount(run: ScanRun, now: number): number {
  const count = run.targets.hosts.length;
  if (run.status === 'completed') return count;
  const progress = runProgress(run, now);
  let finished = 0;
  while (finished < count && hostWindow(finished, count).end <= progress + 1e-9) finished += 1;
  return finished;
}
