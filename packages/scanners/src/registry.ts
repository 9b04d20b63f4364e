import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { AppError } from '@nessus-mcp/core/errors';
import { redisKeys, type RedisKeys } from '@nessus-mcp/core/redis-keys';
import type { ScannerInstanceConfig, ScannerPoolConfig, ScannerPoolsConfig } from './config.js';
import { createScanner, type ScannerFactoryOptions } from './scanner-factory.js';
import type { Scanner, ScannerHealth, ScannerLogger } from './scanner.js';
import { silentLogger } from './scanner.js';

/**
 * Picks the least-loaded enabled instance of a pool with a free slot and records the task's
 * reservation, in one step so two processes can never both take an instance's last slot.
 *   KEYS[i]            reservation sorted set of instance i (member task id, score reserved-at ms)
 *   ARGV[1]            task id
 *   ARGV[2]            now (ms)
 *   ARGV[3]            1-based index of the preferred instance, 0 for any
 *   ARGV[2+2i], [3+2i] max_concurrent_scans and enabled (1/0) of instance i
 * Returns {index, reused}: index 0 when every candidate is full. A task that already holds a
 * reservation (a retried job after a worker crash) gets the same instance back, even if full.
 */
const SELECT_SCRIPT = `
local task = ARGV[1]
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], task) then return {i, 1} end
end
local preferred = tonumber(ARGV[3])
local best, bestActive, bestMax = 0, 0, 1
for i = 1, #KEYS do
  if preferred == 0 or preferred == i then
    local max = tonumber(ARGV[2 + 2 * i])
    if ARGV[3 + 2 * i] == '1' and max > 0 then
      local active = redis.call('ZCARD', KEYS[i])
      if active < max and (best == 0 or active * bestMax < bestActive * max) then
        best, bestActive, bestMax = i, active, max
      end
    end
  end
end
if best == 0 then return {0, 0} end
redis.call('ZADD', KEYS[best], ARGV[2], task)
return {best, 0}
`;
const SELECT_SHA = createHash('sha1').update(SELECT_SCRIPT).digest('hex');
const STARTING_HEALTH_TTL_MS = 5_000;

export interface ScannerRegistryOptions extends ScannerFactoryOptions {
  /** The caller owns this connection (the registry never closes it). One server or a cluster. */
  redis: Redis | Cluster;
  /** Prefix of every Redis key (`RedisNamespace.keyPrefix`). Default `nmcp`. */
  keyPrefix?: string;
  /** How long a health check result is shared before the next one. Default 30 s. */
  healthTtlMs?: number;
  /** Builds the scanner of an instance; default `createScanner` (tests inject mocks). */
  scannerFactory?: (pool: ScannerPoolConfig, instance: ScannerInstanceConfig) => Scanner;
}

export interface ScannerSelection {
  poolName: string;
  instanceId: string;
  scanner: Scanner;
  /** True when the task already held this reservation (a retry after a crash). */
  reused: boolean;
}

export interface InstanceLoad {
  poolName: string;
  instanceId: string;
  name: string;
  enabled: boolean;
  active: number;
  capacity: number;
}

export interface Reservation {
  taskId: string;
  reservedAt: number;
}

export interface InstanceInfo {
  poolName: string;
  instanceId: string;
  name: string;
  url: string;
  enabled: boolean;
  maxConcurrentScans: number;
}

/**
 * Scanner pools built from `scanners.yaml`, with active-scan counts kept in Redis so every
 * process (gateway, one or more workers) sees the same load and per-instance limits hold
 * across them (a per-process count would show 0 in every process but the one holding the slot).
 */
export class ScannerRegistry {
  private readonly redis: Redis | Cluster;
  private readonly keys: RedisKeys;
  private readonly healthTtlMs: number;
  private readonly log: ScannerLogger;
  private readonly pools = new Map<string, ScannerPoolConfig>();
  private readonly scanners = new Map<string, Scanner>();

  constructor(
    private readonly config: ScannerPoolsConfig,
    options: ScannerRegistryOptions,
  ) {
    this.redis = options.redis;
    this.keys = redisKeys(options.keyPrefix);
    this.healthTtlMs = options.healthTtlMs ?? 30_000;
    this.log = options.logger ?? silentLogger;
    const factory = options.scannerFactory ?? ((pool, instance) => createScanner(pool, instance, options));
    for (const pool of config.pools) {
      if (this.pools.has(pool.name)) throw new AppError('config_invalid', `scanner pool '${pool.name}' is declared twice`);
      this.pools.set(pool.name, pool);
      const seen = new Set<string>();
      for (const instance of pool.instances) {
        if (seen.has(instance.instance_id))
          throw new AppError('config_invalid', `scanner pool '${pool.name}' declares instance '${instance.instance_id}' twice`);
        seen.add(instance.instance_id);
        this.scanners.set(this.scannerKey(pool.name, instance.instance_id), factory(pool, instance));
      }
    }
    if (!this.pools.has(config.default_pool)) throw new AppError('config_invalid', `default_pool '${config.default_pool}' is not a declared pool`);
  }

  get defaultPool(): string {
    return this.config.default_pool;
  }

  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  /** Instances of a pool (or all pools), without secrets. */
  instances(poolName?: string): InstanceInfo[] {
    return this.poolsFor(poolName).flatMap((pool) =>
      pool.instances.map((i) => ({
        poolName: pool.name,
        instanceId: i.instance_id,
        name: i.name,
        url: i.url,
        enabled: i.enabled,
        maxConcurrentScans: i.max_concurrent_scans,
      })),
    );
  }

  getScanner(poolName: string, instanceId: string): Scanner {
    const pool = this.pool(poolName);
    const scanner = this.scanners.get(this.scannerKey(pool.name, instanceId));
    if (!scanner) {
      throw new AppError('not_found', `scanner instance '${instanceId}' is not in pool '${poolName}'`, {
        details: { scanner_pool: poolName, instances: pool.instances.map((i) => i.instance_id) },
      });
    }
    return scanner;
  }

  /**
   * Reserves a slot for `taskId` on the least-loaded enabled instance of `poolName` (or on
   * `preferredInstance` only). Returns null when every candidate is at `max_concurrent_scans`:
   * the caller waits and asks again. Calling it again for the same task returns the same instance.
   * `exclude` names instances that take no new reservation now (a Nessus still starting).
   */
  async selectInstance(
    poolName: string,
    taskId: string,
    preferredInstance?: string,
    options: { exclude?: ReadonlySet<string> } = {},
  ): Promise<ScannerSelection | null> {
    const pool = this.pool(poolName);
    let preferredIndex = 0;
    if (preferredInstance !== undefined) {
      const index = pool.instances.findIndex((i) => i.instance_id === preferredInstance);
      const instance = pool.instances[index];
      if (!instance) {
        throw new AppError('invalid_argument', `scanner_instance '${preferredInstance}' is not in pool '${poolName}'`, {
          details: { scanner_pool: poolName, instances: pool.instances.map((i) => i.instance_id) },
        });
      }
      if (!instance.enabled) {
        throw new AppError('scanner_unavailable', `scanner instance '${preferredInstance}' of pool '${poolName}' is disabled`, {
          details: { scanner_pool: poolName, scanner_instance: preferredInstance },
        });
      }
      preferredIndex = index + 1;
    }
    const keys = pool.instances.map((i) => this.reservationKey(pool.name, i.instance_id));
    const open = (i: ScannerInstanceConfig): boolean => i.enabled && !options.exclude?.has(i.instance_id);
    const args = [taskId, String(Date.now()), String(preferredIndex), ...pool.instances.flatMap((i) => [String(i.max_concurrent_scans), open(i) ? '1' : '0'])];
    const [index, reused] = await this.runSelect(keys, args);
    const instance = pool.instances[index - 1];
    if (index === 0 || !instance) return null;
    this.log.debug({ scanner_pool: pool.name, scanner_instance: instance.instance_id, taskId, reused: reused === 1 }, 'scanner slot reserved');
    return { poolName: pool.name, instanceId: instance.instance_id, scanner: this.getScanner(pool.name, instance.instance_id), reused: reused === 1 };
  }

  /** Frees the task's slot; idempotent. Returns whether a reservation was removed. */
  async release(poolName: string, instanceId: string, taskId: string): Promise<boolean> {
    return (await this.redis.zrem(this.reservationKey(poolName, instanceId), taskId)) > 0;
  }

  /** Active reservations per instance, read from Redis: the same numbers in every process. */
  async load(poolName?: string): Promise<InstanceLoad[]> {
    const instances = this.poolsFor(poolName).flatMap((pool) => pool.instances.map((instance) => ({ pool, instance })));
    const pipeline = this.redis.pipeline();
    for (const { pool, instance } of instances) pipeline.zcard(this.reservationKey(pool.name, instance.instance_id));
    const results = (await pipeline.exec()) ?? [];
    return instances.map(({ pool, instance }, i) => {
      const [error, count] = results[i] ?? [null, 0];
      if (error) throw error;
      return {
        poolName: pool.name,
        instanceId: instance.instance_id,
        name: instance.name,
        enabled: instance.enabled,
        active: Number(count),
        capacity: instance.max_concurrent_scans,
      };
    });
  }

  /** The tasks holding slots on an instance, oldest first (for housekeeping to reconcile). */
  async reservations(poolName: string, instanceId: string): Promise<Reservation[]> {
    const flat = await this.redis.zrange(this.reservationKey(poolName, instanceId), 0, -1, 'WITHSCORES');
    const out: Reservation[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ taskId: flat[i] as string, reservedAt: Number(flat[i + 1]) });
    return out;
  }

  /**
   * Health of each instance of a pool (or of all pools). Results are shared through Redis for
   * `healthTtlMs`, so `/ready` and `list_scanners` in any process do not hammer the scanners;
   * `refresh: true` checks again now. Disabled instances are reported without being contacted.
   */
  async health(poolName?: string, options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<ScannerHealth[]> {
    const instances = this.poolsFor(poolName).flatMap((pool) => pool.instances.map((instance) => ({ pool, instance })));
    return Promise.all(instances.map(({ pool, instance }) => this.instanceHealth(pool, instance, options)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.scanners.values()].map((s) => s.close()));
  }

  // ---- internals ----

  private async instanceHealth(
    pool: ScannerPoolConfig,
    instance: ScannerInstanceConfig,
    options: { refresh?: boolean; signal?: AbortSignal },
  ): Promise<ScannerHealth> {
    const scanner = this.getScanner(pool.name, instance.instance_id);
    if (!instance.enabled) {
      return {
        instanceId: instance.instance_id,
        poolName: pool.name,
        kind: scanner.kind,
        healthy: false,
        status: 'unreachable',
        serverStatus: null,
        serverProgress: null,
        version: null,
        product: null,
        licence: null,
        scanApi: null,
        message: 'disabled in the scanner configuration',
        checkedAt: Date.now(),
        latencyMs: 0,
      };
    }
    const key = this.healthKey(pool.name, instance.instance_id);
    if (!options.refresh) {
      const cached = await this.redis.get(key);
      if (cached) {
        try {
          return JSON.parse(cached) as ScannerHealth;
        } catch {
          // A foreign or truncated value: check again below and overwrite it.
        }
      }
    }
    const health = await scanner.checkHealth(options.signal);
    // A starting Nessus turns ready without notice: look again sooner, so waiting scans start soon after.
    const ttl = health.status === 'starting' ? Math.min(this.healthTtlMs, STARTING_HEALTH_TTL_MS) : this.healthTtlMs;
    await this.redis.set(key, JSON.stringify(health), 'PX', ttl);
    if (!health.healthy)
      this.log.warn({ scanner_pool: pool.name, scanner_instance: instance.instance_id, status: health.status, reason: health.message }, 'scanner unhealthy');
    return health;
  }

  private async runSelect(keys: string[], args: string[]): Promise<[number, number]> {
    let result: unknown;
    try {
      result = await this.redis.evalsha(SELECT_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      result = await this.redis.eval(SELECT_SCRIPT, keys.length, ...keys, ...args);
    }
    if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'number') {
      throw new AppError('internal', 'unexpected reply from the scanner selection script');
    }
    return [result[0], result[1]];
  }

  private pool(poolName: string): ScannerPoolConfig {
    const pool = this.pools.get(poolName);
    if (!pool) throw new AppError('invalid_argument', `scanner_pool '${poolName}' does not exist`, { details: { pools: this.poolNames() } });
    return pool;
  }

  private poolsFor(poolName: string | undefined): ScannerPoolConfig[] {
    return poolName === undefined ? [...this.pools.values()] : [this.pool(poolName)];
  }

  private scannerKey(poolName: string, instanceId: string): string {
    return `${poolName}\u0000${instanceId}`;
  }

  private reservationKey(poolName: string, instanceId: string): string {
    return this.keys.scannerReservations(poolName, instanceId);
  }

  private healthKey(poolName: string, instanceId: string): string {
    return this.keys.scannerHealth(poolName, instanceId);
  }
}
