import { AppError } from '@nessus-mcp/core';

/**
 * Process-level knobs beyond the environment the README documents, for operators and tests. The defaults
 * suit production: scan jobs spend their life parked between polls, so one process can hold
 * many; a 30 s lock means a crashed worker's job is picked up again within about a minute.
 */
export interface WorkerSettings {
  /** Scan jobs one process runs at once (I/O bound: each is a few HTTP calls per step). */
  concurrency: number;
  /** BullMQ job lock; after a crash a job is taken over once its lock expires. */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** Interface the metrics endpoint listens on. */
  metricsHost: string;
  /**
   * How often the scan watcher lists the scans of each instance with running scans, to wake a
   * job as soon as its scan ends; 0 turns the watcher off (each job polls on the adaptive
   * `poll_min_ms`..`poll_max_ms` schedule of scanners.yaml). Default 1 s: one `GET /scans` per
   * instance with running scans per second, and a scan's end noticed within a second.
   */
  watchIntervalMs?: number;
  /** With the watcher on, how often a running scan's own job still polls it. Default 10 min. */
  watchedPollMs?: number;
  /**
   * With the watcher on, how often it lists every parked scan job of its pools and watches those
   * it does not yet: a worker that died leaves its scans to the survivors within this time rather
   * than at their fallback poll. Default 1 min; 0 = only at start.
   */
  watchAdoptMs?: number;
}

export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
// A scan's job costs about 80 Redis commands per poll (measured by the scale benchmark): every
// 10 minutes that is 8 per scan-minute, within the goal of 20 with room for the rest.
export const DEFAULT_WATCHED_POLL_MS = 600_000;
// Listing the parked jobs costs about one Redis command per job: every minute, one per
// scan-minute, and a dead worker's scans are watched again within a minute.
export const DEFAULT_WATCH_ADOPT_MS = 60_000;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (allowZero && value === 0) return 0;
  if (!Number.isInteger(value) || value < min)
    throw new AppError('config_invalid', `${name}=${raw} must be an integer >= ${min}${allowZero ? ' (or 0 to turn it off)' : ''}`);
  return value;
}

export function loadWorkerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return {
    concurrency: positiveInt(env, 'WORKER_CONCURRENCY', 50, 1),
    lockDurationMs: positiveInt(env, 'WORKER_LOCK_DURATION_MS', 30_000, 1000),
    stalledIntervalMs: positiveInt(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 500),
    metricsHost: env.WORKER_METRICS_HOST || '127.0.0.1',
    watchIntervalMs: positiveInt(env, 'WORKER_WATCH_INTERVAL_MS', DEFAULT_WATCH_INTERVAL_MS, 100, true),
    watchedPollMs: positiveInt(env, 'WORKER_WATCHED_POLL_MS', DEFAULT_WATCHED_POLL_MS, 1000),
    watchAdoptMs: positiveInt(env, 'WORKER_WATCH_ADOPT_MS', DEFAULT_WATCH_ADOPT_MS, 1000, true),
  };
}
