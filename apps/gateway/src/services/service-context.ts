import {
  compileAllowList,
  createScanQueue,
  isValidTaskId,
  AppError,
  type AllowList,
  type Logger,
  type HousekeepingQueue,
  type RedisClient,
  type ScanQueue,
  type ScannersConfig,
  type TaskStore,
  type AuditLog,
} from '@nessus-mcp/core';
import type { ResultStoreCache, TaskFiles } from '@nessus-mcp/results';
import type { Principal } from '../auth/principal.js';
import type { ScannerRegistry } from '@nessus-mcp/scanners';
import type { SettledTasks } from './settled-tasks.js';
import type { ConnectionOptions } from 'bullmq';

/** What the gateway needs from the scanner registry: pools, shared load, cached health, a scanner for live progress. */
export type ScannerFleet = Pick<ScannerRegistry, 'defaultPool' | 'poolNames' | 'instances' | 'load' | 'health' | 'getScanner'>;

/**
 * The scanner configuration and everything derived from it, swapped as one value on SIGHUP so
 * a request never sees the allow-list of one file and the pools of another.
 */
export interface ScannerSetup {
  config: ScannersConfig;
  allowList: AllowList;
  fleet: ScannerFleet;
}

export function scannerSetup(config: ScannersConfig, fleet: ScannerFleet): ScannerSetup {
  return { config, allowList: compileAllowList(config.allowed_targets), fleet };
}

/** Scan queues per pool, created on first use (a reloaded config may add pools). */
export class ScanQueues {
  private readonly queues = new Map<string, ScanQueue>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly setup: () => ScannerSetup,
    readonly housekeeping: HousekeepingQueue,
    private readonly logger: Logger,
    /** BullMQ prefix (`RedisNamespace.queuePrefix`). */
    private readonly prefix?: string,
  ) {}

  forPool(pool: string): ScanQueue {
    let queue = this.queues.get(pool);
    if (!queue) {
      const { scans, retention } = this.setup().config;
      const defaults = {
        attempts: scans.attempts,
        backoffMs: scans.backoff_ms,
        deadLetterDays: retention.dead_letter_days,
        completedDays: retention.completed_days,
      };
      queue = createScanQueue(pool, this.connection, defaults, {
        logger: this.logger.child({ scanner_pool: pool }),
        ...(this.prefix === undefined ? {} : { prefix: this.prefix }),
      });
      this.queues.set(pool, queue);
    }
    return queue;
  }

  /** One queue per configured pool, in configuration order. */
  scanQueues(): Array<{ pool: string; queue: ScanQueue }> {
    return this.setup().config.pools.map((pool) => ({ pool: pool.name, queue: this.forPool(pool.name) }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.housekeeping.close();
  }
}

export interface ServiceContext {
  redis: RedisClient;
  tasks: TaskStore;
  /** Reads of tasks that can no longer change (status polls and result reads of finished scans). */
  settled: SettledTasks;
  queues: ScanQueues;
  /** The current scanner setup (replaced on reload). */
  setup: () => ScannerSetup;
  results: ResultStoreCache;
  /** Each task's export and result store: the only way a service reaches them. */
  files: TaskFiles;
  credentialsKey: Buffer;
  /** Checked for writability by /ready. */
  dataDir: string;
  logger: Logger;
  /** The audit trail (docs/security.md). */
  audit: AuditLog;
  /** How long `get_scan_status` waits for a live progress reading before using the worker's. */
  liveProgressTimeoutMs: number;
}

/** Per-call facts every service function receives from its transport. */
export interface CallContext {
  traceId: string;
  logger: Logger;
  /** Who is calling: names them in the audit trail and narrows their targets. */
  principal: Principal;
}

export function assertTaskId(taskId: string): void {
  if (!isValidTaskId(taskId)) {
    throw new AppError('invalid_argument', `task_id: is not a task id (they look like ne_scan_20251201_143022_a1b2c3d4)`, {
      details: { problems: [{ field: 'task_id', message: 'is not a task id (they look like ne_scan_20251201_143022_a1b2c3d4)' }] },
    });
  }
}
