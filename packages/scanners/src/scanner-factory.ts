import type { ScannerInstanceConfig, ScannerPoolConfig } from './config.js';
import { MockScanner, type MockScannerOptions } from './mock-scanner.js';
import { NessusScanner, type ExportPollOptions } from './nessus-client.js';
import type { ApiCallHook, Scanner, ScannerLogger } from './scanner.js';

export interface ScannerFactoryOptions {
  /** A pino-compatible logger; when it has `child`, each scanner logs with its pool and instance. */
  logger?: ScannerLogger & { child?: (bindings: Record<string, unknown>) => ScannerLogger };
  onApiCall?: ApiCallHook;
  exportPoll?: ExportPollOptions;
  /** Options for `type: mock` pools (outcome, export fixture). */
  mock?: Omit<MockScannerOptions, 'poolName' | 'instanceId'>;
}

/** Builds the `Scanner` for one configured instance, by the pool's `type`. */
export function createScanner(pool: ScannerPoolConfig, instance: ScannerInstanceConfig, options: ScannerFactoryOptions = {}): Scanner {
  const logger = options.logger?.child ? options.logger.child({ scanner_pool: pool.name, scanner_instance: instance.instance_id }) : options.logger;
  switch (pool.type) {
    case 'nessus':
      return new NessusScanner({
        poolName: pool.name,
        instance,
        folder: pool.folder,
        ...(logger ? { logger } : {}),
        ...(options.onApiCall ? { onApiCall: options.onApiCall } : {}),
        ...(options.exportPoll ? { exportPoll: options.exportPoll } : {}),
      });
    case 'mock':
      return new MockScanner({ ...options.mock, poolName: pool.name, instanceId: instance.instance_id });
  }
}
