import { join } from 'node:path';
import { describeStorage, type StorageLocation } from '@nessus-mcp/core/storage-url';
import { LocalTaskFiles, type TaskFiles } from './task-files.js';

export interface TaskFilesConfig {
  dataDir: string;
  /** STORAGE_URL, parsed; unset keeps the files under `dataDir`. */
  storage: StorageLocation | undefined;
  /** Bytes of downloaded result stores a process keeps under `dataDir/cache`. */
  storageCacheBytes: number;
}

export interface OpenedTaskFiles {
  files: TaskFiles;
  /** Where the files are, for the start-up log line (no credentials). */
  description: string;
  close(): void;
}

/**
 * The task files a process uses, chosen by STORAGE_URL. With object storage the bucket is
 * checked first, so a wrong bucket, region or credentials stop the process at start with a
 * message naming the problem instead of failing the first scan.
 */
export async function openTaskFiles(config: TaskFilesConfig): Promise<OpenedTaskFiles> {
  if (!config.storage) return { files: new LocalTaskFiles(config.dataDir), description: `local files under ${config.dataDir}`, close: () => undefined };
  const { S3ObjectStore, S3TaskFiles } = await import('./s3.js');
  const objects = new S3ObjectStore(config.storage);
  try {
    await objects.checkAccess();
  } catch (error) {
    objects.destroy();
    throw error;
  }
  const files = new S3TaskFiles({ objects, cacheDir: join(config.dataDir, 'cache'), cacheBytes: config.storageCacheBytes });
  return { files, description: describeStorage(config.storage), close: () => objects.destroy() };
}
