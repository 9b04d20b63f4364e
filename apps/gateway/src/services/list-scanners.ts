import type { PoolFilterInput } from '../schemas/tool-inputs.js';
import type { ScannersOutput } from '../schemas/tool-outputs.js';
import { assertPool } from './scanner-pools.js';
import type { ServiceContext } from './service-context.js';

/** Pools with capacity, live shared load and cached health (never the scanners' URLs or keys). */
export async function listScanners(context: ServiceContext, input: PoolFilterInput): Promise<ScannersOutput> {
  assertPool(context, input.scanner_pool);
  const { fleet } = context.setup();
  const [load, health] = await Promise.all([fleet.load(input.scanner_pool), fleet.health(input.scanner_pool)]);
  const healthOf = new Map(health.map((h) => [`${h.poolName}/${h.instanceId}`, h]));
  const pools = (input.scanner_pool === undefined ? fleet.poolNames() : [input.scanner_pool]).map((pool) => {
    const instances = load
      .filter((instance) => instance.poolName === pool)
      .map((instance) => {
        const h = healthOf.get(`${pool}/${instance.instanceId}`);
        return {
          instance_id: instance.instanceId,
          name: instance.name,
          enabled: instance.enabled,
          max_concurrent_scans: instance.capacity,
          active_scans: instance.active,
          healthy: h?.healthy ?? false,
          health_status: h?.status ?? 'unknown',
          health_message: h?.message ?? null,
          startup_progress: h?.serverProgress ?? null,
          version: h?.version ?? null,
          checked_at: h ? new Date(h.checkedAt).toISOString() : null,
        };
      });
    return {
      name: pool,
      is_default: pool === fleet.defaultPool,
      capacity: instances.filter((i) => i.enabled).reduce((sum, i) => sum + i.max_concurrent_scans, 0),
      active_scans: instances.reduce((sum, i) => sum + i.active_scans, 0),
      instances,
    };
  });
  return { pools };
}
