import { AppError, findPool, type ScannerPoolConfig, type ScannersConfig } from '@nessus-mcp/core';
import type { ServiceContext } from './service-context.js';

/** For filters (`list_scanners`, `get_queue_status`): an unknown pool is a `not_found`. */
export function assertPool(context: ServiceContext, pool: string | undefined): void {
  if (pool === undefined) return;
  const names = context.setup().fleet.poolNames();
  if (!names.includes(pool)) {
    throw new AppError('not_found', `scanner_pool: '${pool}' does not exist (pools: ${names.join(', ')})`, {
      details: { field: 'scanner_pool', pools: names },
    });
  }
}

/**
 * For a submission: the pool to scan with (the default when none is named) after checking that
 * it exists and that a pinned instance belongs to it and is enabled.
 */
export function resolveScanPool(config: ScannersConfig, poolName: string | undefined, pinnedInstance: string | undefined): ScannerPoolConfig {
  const name = poolName ?? config.default_pool;
  const pool = findPool(config, name);
  if (!pool) {
    throw new AppError('invalid_argument', `scanner_pool: '${name}' does not exist (pools: ${config.pools.map((p) => p.name).join(', ')})`, {
      details: { field: 'scanner_pool', pools: config.pools.map((p) => p.name) },
    });
  }
  if (pinnedInstance !== undefined) {
    const instance = pool.instances.find((i) => i.instance_id === pinnedInstance);
    if (!instance) {
      throw new AppError(
        'invalid_argument',
        `scanner_instance: '${pinnedInstance}' is not in pool '${pool.name}' (instances: ${pool.instances.map((i) => i.instance_id).join(', ')})`,
        {
          details: { field: 'scanner_instance', instances: pool.instances.map((i) => i.instance_id) },
        },
      );
    }
    if (!instance.enabled)
      throw new AppError('scanner_unavailable', `scanner_instance: '${instance.instance_id}' is disabled in the scanner configuration`, {
        details: { field: 'scanner_instance' },
      });
  }
  return pool;
}

/** Least-loaded enabled instance by shared load, healthy ones first when health is known. */
export async function pickInstance(context: ServiceContext, pool: string): Promise<string> {
  const { fleet } = context.setup();
  const [load, health] = await Promise.all([fleet.load(pool), fleet.health(pool).catch(() => [])]);
  const healthy = new Map(health.map((h) => [h.instanceId, h.healthy]));
  const candidates = load.filter((instance) => instance.enabled && instance.capacity > 0);
  if (candidates.length === 0) throw new AppError('scanner_unavailable', `scanner pool '${pool}' has no enabled instance`, { details: { scanner_pool: pool } });
  candidates.sort((a, b) => {
    const health = Number(healthy.get(b.instanceId) ?? true) - Number(healthy.get(a.instanceId) ?? true);
    return health !== 0 ? health : a.active / a.capacity - b.active / b.capacity;
  });
  return candidates[0]!.instanceId;
}
