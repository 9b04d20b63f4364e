import type { Logger, ScanQueue, ScannersConfig, TaskStore } from '@nessus-mcp/core';
import type { ScannerRegistry } from '@nessus-mcp/scanners';

export interface HousekeepingDeps {
  tasks: TaskStore;
  registry: () => ScannerRegistry;
  config: () => ScannersConfig;
  dataDir: string;
  /** The scan queue of a pool (created on first use). */
  scanQueue: (pool: string) => ScanQueue;
  logger: Logger;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** How many tasks one run looks at; the next run picks up the rest. */
export const BATCH_LIMIT = 1000;
