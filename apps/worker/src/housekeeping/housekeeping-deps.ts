import type { Logger, ScanQueue, ScannersConfig, TaskStore } from '@nessus-mcp/core';
import type { TaskFiles } from '@nessus-mcp/results';
import type { ScannerRegistry } from '@nessus-mcp/scanners';
import type { WorkerMetrics } from '../worker-metrics.js';

export interface HousekeepingDeps {
  tasks: TaskStore;
  registry: () => ScannerRegistry;
  config: () => ScannersConfig;
  files: TaskFiles;
  /** The scan queue of a pool (created on first use). */
  scanQueue: (pool: string) => ScanQueue;
  logger: Logger;
  metrics?: Pick<WorkerMetrics, 'nessusScansHeld'>;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** How many tasks one run looks at; the next run picks up the rest. */
export const BATCH_LIMIT = 1000;
