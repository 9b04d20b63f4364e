import { randomBytes } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceContext } from './service-context.js';

export interface ReadinessReport {
  ready: boolean;
  status: 'ready' | 'degraded' | 'not_ready';
  checks: {
    redis: { ok: boolean; message: string | null };
    data_dir: { ok: boolean; message: string | null };
    scanners: Array<{ scanner_pool: string; scanner_instance: string; healthy: boolean; status: string; message: string | null }>;
  };
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Ready means this gateway can accept and answer work: Redis answers and the data dir takes a
 * write. Unhealthy scanners make it `degraded`, not unready: scans still queue and start once a
 * scanner is back, and taking the gateway out of a load balancer would not help.
 */
export async function checkReadiness(context: ServiceContext): Promise<ReadinessReport> {
  const redis = context.redis.ping().then(
    () => ({ ok: true, message: null }),
    (error: unknown) => ({ ok: false, message: `Redis: ${errorText(error)}` }),
  );
  const probe = join(context.dataDir, `.ready-${randomBytes(4).toString('hex')}`);
  const dataDir = mkdir(context.dataDir, { recursive: true })
    .then(() => writeFile(probe, 'ok'))
    .then(() => unlink(probe))
    .then(
      () => ({ ok: true, message: null }),
      (error: unknown) => ({ ok: false, message: `data dir ${context.dataDir} is not writable: ${(error as NodeJS.ErrnoException).code ?? errorText(error)}` }),
    );
  const scanners = context
    .setup()
    .fleet.health(undefined, { signal: AbortSignal.timeout(5000) })
    .then(
      (health) => health.map((h) => ({ scanner_pool: h.poolName, scanner_instance: h.instanceId, healthy: h.healthy, status: h.status, message: h.message })),
      () => [],
    );
  const [redisCheck, dataCheck, scannerChecks] = await Promise.all([redis, dataDir, scanners]);
  const ready = redisCheck.ok && dataCheck.ok;
  const allHealthy = scannerChecks.length > 0 && scannerChecks.every((s) => s.healthy);
  return {
    ready,
    status: !ready ? 'not_ready' : allHealthy ? 'ready' : 'degraded',
    checks: { redis: redisCheck, data_dir: dataCheck, scanners: scannerChecks },
  };
}
