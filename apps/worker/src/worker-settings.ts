import { AppError } from '@nessus-mcp/core';

/**
 * Process-level knobs beyond CONTRACT.md's environment, for operators and tests. The defaults
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
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new AppError('config_invalid', `${name}=${raw} must be an integer >= ${min}`);
  return value;
}

export function loadWorkerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return {
    concurrency: positiveInt(env, 'WORKER_CONCURRENCY', 50, 1),
    lockDurationMs: positiveInt(env, 'WORKER_LOCK_DURATION_MS', 30_000, 1000),
    stalledIntervalMs: positiveInt(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 500),
    metricsHost: env.WORKER_METRICS_HOST || '127.0.0.1',
  };
}
