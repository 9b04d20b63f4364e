import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { AppError } from '@nessus-mcp/core/errors';
import { isValidTaskId } from '@nessus-mcp/core/tasks';
import { Fingerprints } from './fingerprints.js';
import { readResultSummary } from './store.js';
import type { ResultSummary } from './summary.js';

/** The raw export, opened: the file is held open, so a later removal cannot cut the stream short. */
export interface OpenedExport {
  stream: Readable;
  size: number;
}

/**
 * What a result store build gets to work with: the export as a local file, an empty directory to
 * fill, and where to write the scan's fingerprint (published together with the store).
 */
export interface StoreWorkspace {
  exportPath: string;
  storeDir: string;
  fingerprintPath: string;
}

/** A scan fingerprint found for a task: where it is kept, a version for caches, and its content on demand. */
export interface StoredFingerprint {
  /** `store`: written with the task's result store; `history`: the copy `keepFingerprint` made, which outlives the task's files. */
  kept: 'store' | 'history';
  /** Changes whenever the fingerprint is rewritten or moved, so a cached copy can be told stale. */
  version: string;
  /** Reads it; null when it was removed since it was found. */
  load(): Promise<Fingerprints | null>;
}

/**
 * The files of one scan task: its raw `.nessus` export, its result store (whose `summary.json`
 * is the full record of the ingested scan) and its scan fingerprint, which compare_scans and
 * search_findings read and which is kept in a history for `retention.history_days` after the
 * other files are removed. Both apps reach these files only through this interface, so where
 * they live (a local directory today, object storage later) is decided in one place. Every
 * method refuses a malformed task id with `invalid_argument`, so no value read from Redis or a
 * job can point a file operation elsewhere.
 */
export interface TaskFiles {
  /** Size of the export in bytes; null while the task has none. */
  exportSize(taskId: string): Promise<number | null>;
  /** The export, opened for streaming; null while the task has none. */
  openExport(taskId: string): Promise<OpenedExport | null>;
  /**
   * Lets `write` fill a staging file, then makes it the task's export in one step: a failed or
   * interrupted write leaves no export (and no staging file) behind.
   */
  writeExport<T>(taskId: string, write: (stagingPath: string) => Promise<T>): Promise<T>;
  /**
   * Bytes a new export may take; a download announcing more is refused before it writes
   * anything. Null when the storage sets no bound of its own.
   */
  exportSpace(): Promise<number | null>;
  /**
   * Lets `build` fill an empty directory (and the fingerprint) from the export, then makes them
   * the task's result store and fingerprint in one step: until then readers see the previous
   * ones or none, never a half-built one.
   */
  replaceResultStore<T>(taskId: string, build: (workspace: StoreWorkspace) => Promise<T>): Promise<T>;
  /** The local directory holding the task's result store, for `ResultStore.open` (it may not exist yet). */
  resultStoreDirectory(taskId: string): Promise<string>;
  /** The task's `summary.json`; `not_ready` until an ingest completed. */
  readSummary(taskId: string): Promise<ResultSummary>;
  /** Removes every file of the task except the fingerprint kept in the history (nothing to remove is not an error). */
  remove(taskId: string): Promise<void>;
  /** The task's fingerprint: the store's while it exists, else the history's; null when neither exists. */
  findFingerprint(taskId: string): Promise<StoredFingerprint | null>;
  /**
   * Moves the store's fingerprint into the history, where `remove` leaves it. Repeating it after
   * it succeeded (or with no fingerprint in the store) changes nothing.
   */
  keepFingerprint(taskId: string): Promise<void>;
  /** Removes the fingerprint kept in the history (nothing to remove is not an error). */
  removeKeptFingerprint(taskId: string): Promise<void>;
}

/*
 * The local layout, under DATA_DIR:
 *
 *   tasks/{task_id}/report.nessus        the raw export, renamed into place once complete
 *   tasks/{task_id}/results/             the result store (manifest.json, summary.json, ...; see layout.ts)
 *   tasks/{task_id}/results/fingerprints.json  the scan fingerprint, built and swapped in with the store
 *   tasks/{task_id}/.report-*.part       an export being written
 *   tasks/{task_id}/.results-tmp-{pid}-* a store being built by process {pid}
 *   tasks/{task_id}/.results-old-*       the previous store, between the two renames of a swap
 *   history/{task_id}.json               a fingerprint kept after the task's directory was removed
 */
const TASKS_DIR = 'tasks';
const EXPORT_FILE = 'report.nessus';
const EXPORT_STAGING_PREFIX = '.report-';
const RESULTS_DIR = 'results';
const STORE_STAGING_PREFIX = '.results-tmp-';
const RETIRED_STORE_PREFIX = '.results-old-';
/** The fingerprint's file name inside a result store, wherever the store is kept. */
export const FINGERPRINT_FILE = 'fingerprints.json';
const HISTORY_DIR = 'history';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function checkedTaskId(taskId: string): string {
  if (!isValidTaskId(taskId)) throw new AppError('invalid_argument', `refusing a file path for malformed task id '${taskId.slice(0, 80)}'`);
  return taskId;
}

/** The fingerprint file at `path`, versioned by inode, time and size (a move to the history keeps them, `kept` tells). */
async function storedFingerprint(path: string, kept: StoredFingerprint['kept'], taskId: string): Promise<StoredFingerprint | null> {
  const info = await stat(path).catch((error: unknown) => {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw error;
  });
  if (!info) return null;
  return {
    kept,
    version: `${info.ino}:${info.mtimeMs}:${info.size}`,
    load: async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      return Fingerprints.parse(text, `${kept === 'store' ? 'of' : 'kept in the history for'} task ${taskId}`);
    },
  };
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A task's files in `DATA_DIR/tasks/{task_id}`. */
export class LocalTaskFiles implements TaskFiles {
  constructor(readonly dataDir: string) {}

  async exportSize(taskId: string): Promise<number | null> {
    const handle = await this.openExportHandle(taskId);
    if (!handle) return null;
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  }

  async openExport(taskId: string): Promise<OpenedExport | null> {
    const handle = await this.openExportHandle(taskId);
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      return { stream: handle.createReadStream(), size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async writeExport<T>(taskId: string, write: (stagingPath: string) => Promise<T>): Promise<T> {
    const dir = this.taskDir(taskId);
    await mkdir(dir, { recursive: true });
    const staging = join(dir, `${EXPORT_STAGING_PREFIX}${randomUUID().slice(0, 8)}.part`);
    try {
      const result = await write(staging);
      await rename(staging, join(dir, EXPORT_FILE));
      await syncDirectory(dir);
      return result;
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  }

  /**
   * Half of what the file system under DATA_DIR gives unprivileged writers: the other half is
   * left for the result store the ingest builds from the same export.
   */
  async exportSpace(): Promise<number> {
    await mkdir(this.dataDir, { recursive: true });
    const fs = await statfs(this.dataDir);
    return Math.floor((fs.bavail * fs.bsize) / 2);
  }

  async replaceResultStore<T>(taskId: string, build: (workspace: StoreWorkspace) => Promise<T>): Promise<T> {
    const dir = this.taskDir(taskId);
    await this.removeLeftovers(dir);
    const storeDir = join(dir, `${STORE_STAGING_PREFIX}${process.pid}-${randomUUID().slice(0, 8)}`);
    await mkdir(storeDir, { recursive: true });
    try {
      const result = await build({ exportPath: join(dir, EXPORT_FILE), storeDir, fingerprintPath: join(storeDir, FINGERPRINT_FILE) });
      await syncDirectory(storeDir);
      await this.swapIntoPlace(dir, storeDir);
      return result;
    } catch (error) {
      await rm(storeDir, { recursive: true, force: true });
      throw error;
    }
  }

  async resultStoreDirectory(taskId: string): Promise<string> {
    return join(this.taskDir(taskId), RESULTS_DIR);
  }

  async readSummary(taskId: string): Promise<ResultSummary> {
    return readResultSummary(await this.resultStoreDirectory(taskId));
  }

  async remove(taskId: string): Promise<void> {
    await rm(this.taskDir(taskId), { recursive: true, force: true });
  }

  async findFingerprint(taskId: string): Promise<StoredFingerprint | null> {
    return (
      (await storedFingerprint(join(this.taskDir(taskId), RESULTS_DIR, FINGERPRINT_FILE), 'store', taskId)) ??
      storedFingerprint(this.keptFingerprintPath(taskId), 'history', taskId)
    );
  }

  async keepFingerprint(taskId: string): Promise<void> {
    const target = this.keptFingerprintPath(taskId);
    await mkdir(join(this.dataDir, HISTORY_DIR), { recursive: true });
    try {
      await rename(join(this.taskDir(taskId), RESULTS_DIR, FINGERPRINT_FILE), target);
    } catch (error) {
      // Already moved by an earlier run interrupted before the task's files were removed.
      if (!isMissing(error)) throw error;
      return;
    }
    await syncDirectory(join(this.dataDir, HISTORY_DIR));
  }

  async removeKeptFingerprint(taskId: string): Promise<void> {
    await rm(this.keptFingerprintPath(taskId), { force: true });
  }

  /** The only place a task id becomes a path. */
  private taskDir(taskId: string): string {
    return join(this.dataDir, TASKS_DIR, checkedTaskId(taskId));
  }

  private keptFingerprintPath(taskId: string): string {
    return join(this.dataDir, HISTORY_DIR, `${checkedTaskId(taskId)}.json`);
  }

  private async openExportHandle(taskId: string) {
    try {
      return await open(join(this.taskDir(taskId), EXPORT_FILE), 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * Leftovers of a build that crashed (or of a swap that was interrupted) are never trusted, so
   * they are removed; a staging directory of another live process is its build in progress.
   */
  private async removeLeftovers(dir: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const stale = names.filter((name) => {
      if (name.startsWith(RETIRED_STORE_PREFIX)) return true;
      if (!name.startsWith(STORE_STAGING_PREFIX)) return false;
      const pid = Number(name.slice(STORE_STAGING_PREFIX.length).split('-')[0]);
      return !Number.isInteger(pid) || pid === process.pid || !processAlive(pid);
    });
    await Promise.all(stale.map((name) => rm(join(dir, name), { recursive: true, force: true })));
  }

  /**
   * Replaces `results/` with the new store. A rename onto a non-empty directory is not possible,
   * so an existing store is first moved aside; a crash between the two renames leaves no store
   * (read as not ready), and the next build removes the leftovers.
   */
  private async swapIntoPlace(dir: string, storeDir: string): Promise<void> {
    const target = join(dir, RESULTS_DIR);
    const retired = join(dir, `${RETIRED_STORE_PREFIX}${randomUUID().slice(0, 8)}`);
    let hadPrevious = true;
    try {
      await rename(target, retired);
    } catch (error) {
      if (!isMissing(error)) throw error;
      hadPrevious = false;
    }
    await rename(storeDir, target);
    await syncDirectory(dir);
    if (hadPrevious) await rm(retired, { recursive: true, force: true });
  }
}
