import type { ScannersConfig } from '@nessus-mcp/core';

export type { ScannerInstanceConfig, ScannerPoolConfig, ScannersConfig } from '@nessus-mcp/core';

/** What the registry reads of the scanner configuration (tests pass literals of this shape). */
export type ScannerPoolsConfig = Pick<ScannersConfig, 'pools' | 'default_pool'>;

/** Matches core's schema default for `folder`. */
export const DEFAULT_FOLDER = 'nessus-mcp';
