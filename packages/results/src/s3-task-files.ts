import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import { AppError } from '@nessus-mcp/core/errors';
import { isValidTaskId } from '@nessus-mcp/core/tasks';
import { SUMMARY_FILE } from './layout.js';
import type { ObjectStore } from './object-store.js';
import { StoreDownloads, parseStorePointer, type StoreObjects, type StorePointer } from './store-downloads.js';
import type { ResultSummary } from './summary.js';
import { Fingerprints } from './fingerprints.js';
import { FINGERPRINT_FILE, type OpenedExport, type StoredFingerprint, type StoreWorkspace, type TaskFiles } from './task-files.js';

/*
 * The layout in the bucket, under STORAGE_URL's prefix:
 *
 *   tasks/{task_id}/report.nessus                   the raw export (one PUT or a multipart upload: visible whole or not at all)
 *   tasks/{task_id}/results/{attempt}/{file}        the objects of one store upload (manifest.json, summary.json, ...)
 *   tasks/{task_id}/results.json                    the pointer to the published attempt, written last
 *   history/{task_id}.json                          a fingerprint kept after the task's objects were removed
 *
 * and locally, under `cacheDir` (DATA_DIR/cache): `work/` for exports being downloaded and
 * stores being built (removed when done), `stores/` for the gateway's copies (StoreDownloads).
 */
const TASKS_PREFIX = 'tasks';
const EXPORT_OBJECT = 'report.nessus';
const RESULTS_PREFIX = 'results';
const POINTER_OBJECT = 'results.json';
const HISTORY_PREFIX = 'history';
const NOT_READY = 'The results of this task are not ready: the export has not been ingested yet.';

export interface S3TaskFilesOptions {
  objects: ObjectStore;
  /** Local directory for temporary work and downloaded stores; nothing in it is needed to recover. */
  cacheDir: string;
  /** Bytes of downloaded result stores kept (least recently used evicted). */
  cacheBytes: number;
  /** Parallel object uploads while publishing a store. */
  uploadConcurrency?: number;
}

/** Attempt ids sort by start time, so a publish can tell leftovers of earlier attempts from a later one in progress. */
function newAttemptId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${randomUUID().slice(0, 8)}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function inBatches<T>(items: T[], size: number, action: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(action));
}

/**
 * A task's files in object storage. The worker downloads the export and builds the store in a
 * local temporary directory (the build needs random access), uploads every object of the store
 * under a fresh attempt prefix, and only then writes the pointer that makes it the task's store:
 * a crash before that leaves the previous store or none (read as `not_ready`), never half of one.
 */
export class S3TaskFiles implements TaskFiles {
  readonly downloads: StoreDownloads;
  private readonly objects: ObjectStore;
  private readonly workDir: string;
  private readonly uploadConcurrency: number;
  private readonly workOwner = `${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}~${process.pid}~`;
  private workReady: Promise<void> | null = null;

  constructor(options: S3TaskFilesOptions) {
    this.objects = options.objects;
    this.workDir = join(options.cacheDir, 'work');
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
    this.downloads = new StoreDownloads(options.objects, join(options.cacheDir, 'stores'), options.cacheBytes);
  }

  async exportSize(taskId: string): Promise<number | null> {
    return (await this.objects.head(this.exportKey(taskId)))?.size ?? null;
  }

  async openExport(taskId: string): Promise<OpenedExport | null> {
    const body = await this.objects.get(this.exportKey(taskId));
    return body && { stream: body.stream, size: body.size };
  }

  async writeExport<T>(taskId: string, write: (stagingPath: string) => Promise<T>): Promise<T> {
    const key = this.exportKey(taskId);
    return this.withWorkspace(async (work) => {
      const staging = join(work, EXPORT_OBJECT);
      const result = await write(staging);
      await this.objects.putFile(key, staging);
      return result;
    });
  }

  /**
   * The bucket sets no bound, but the export is downloaded to, and the store built in, the local
   * work directory: half of its file system, the other half left for the store.
   */
  async exportSpace(): Promise<number> {
    await mkdir(this.workDir, { recursive: true });
    const fs = await statfs(this.workDir);
    return Math.floor((fs.bavail * fs.bsize) / 2);
  }

  async replaceResultStore<T>(taskId: string, build: (workspace: StoreWorkspace) => Promise<T>): Promise<T> {
    const base = this.taskPrefix(taskId);
    return this.withWorkspace(async (work) => {
      const exportPath = join(work, EXPORT_OBJECT);
      // A missing export leaves no file: the build fails on it exactly as it does on local files.
      await this.objects.download(`${base}${EXPORT_OBJECT}`, exportPath);
      const storeDir = join(work, 'store');
      await mkdir(storeDir);
      const result = await build({ exportPath, storeDir, fingerprintPath: join(storeDir, FINGERPRINT_FILE) });
      await this.publishStore(base, storeDir);
      return result;
    });
  }

  async resultStoreDirectory(taskId: string): Promise<string> {
    return this.downloads.directoryFor(taskId, this.storeObjects(taskId));
  }

  async readSummary(taskId: string): Promise<ResultSummary> {
    const where = this.storeObjects(taskId);
    const answer = await this.objects.getIfChanged(where.pointerKey, undefined);
    if (answer === null || answer === 'unchanged') throw new AppError('not_ready', NOT_READY);
    const pointer = parseStorePointer(answer.bytes);
    const body = await this.objects.get(where.objectKey(pointer.attempt, SUMMARY_FILE));
    // The pointer was read just before a removal or a replacement finished: nothing to show yet.
    if (!body) throw new AppError('not_ready', NOT_READY);
    return JSON.parse(await text(body.stream)) as ResultSummary;
  }

  async remove(taskId: string): Promise<void> {
    const base = this.taskPrefix(taskId);
    // The pointer goes first, so readers see "not ready" rather than a store losing its objects.
    await this.objects.deleteMany([`${base}${POINTER_OBJECT}`]);
    const keys = await this.objects.list(base);
    await this.objects.deleteMany(keys);
    await this.downloads.forget(taskId);
  }

  async findFingerprint(taskId: string): Promise<StoredFingerprint | null> {
    const where = this.storeObjects(taskId);
    const answer = await this.objects.getIfChanged(where.pointerKey, undefined);
    if (answer !== null && answer !== 'unchanged') {
      const pointer = parseStorePointer(answer.bytes);
      const entry = pointer.files.find((file) => file.name === FINGERPRINT_FILE);
      if (entry) return this.storedFingerprint(where.objectKey(pointer.attempt, FINGERPRINT_FILE), 'store', `${pointer.attempt}:${entry.etag}`, taskId);
    }
    const kept = this.historyKey(taskId);
    const info = await this.objects.head(kept);
    return info && this.storedFingerprint(kept, 'history', `history:${info.etag}`, taskId);
  }

  /** Copies the store's fingerprint to the history key, which `remove` (under `tasks/`) never touches. */
  async keepFingerprint(taskId: string): Promise<void> {
    const where = this.storeObjects(taskId);
    const answer = await this.objects.getIfChanged(where.pointerKey, undefined);
    // No store: the fingerprint was kept (and the store removed) by an earlier run, or never built.
    if (answer === null || answer === 'unchanged') return;
    const pointer = parseStorePointer(answer.bytes);
    if (!pointer.files.some((file) => file.name === FINGERPRINT_FILE)) return;
    const body = await this.objects.get(where.objectKey(pointer.attempt, FINGERPRINT_FILE));
    if (!body) return;
    await this.objects.putBytes(this.historyKey(taskId), await buffer(body.stream), 'application/json');
  }

  async removeKeptFingerprint(taskId: string): Promise<void> {
    await this.objects.deleteMany([this.historyKey(taskId)]);
  }

  private storedFingerprint(key: string, kept: StoredFingerprint['kept'], version: string, taskId: string): StoredFingerprint {
    return {
      kept,
      version,
      load: async () => {
        const body = await this.objects.get(key);
        if (!body) return null;
        return Fingerprints.parse(await text(body.stream), `${kept === 'store' ? 'of' : 'kept in the history for'} task ${taskId}`);
      },
    };
  }

  private historyKey(taskId: string): string {
    this.taskPrefix(taskId);
    return `${HISTORY_PREFIX}/${taskId}.json`;
  }

  /** The only place a task id becomes a key. */
  private taskPrefix(taskId: string): string {
    if (!isValidTaskId(taskId)) throw new AppError('invalid_argument', `refusing an object key for malformed task id '${taskId.slice(0, 80)}'`);
    return `${TASKS_PREFIX}/${taskId}/`;
  }

  private exportKey(taskId: string): string {
    return `${this.taskPrefix(taskId)}${EXPORT_OBJECT}`;
  }

  private storeObjects(taskId: string): StoreObjects {
    const base = this.taskPrefix(taskId);
    return { pointerKey: `${base}${POINTER_OBJECT}`, objectKey: (attempt, name) => `${base}${RESULTS_PREFIX}/${attempt}/${name}` };
  }

  private async withWorkspace<T>(use: (work: string) => Promise<T>): Promise<T> {
    this.workReady ??= this.removeStaleWork();
    await this.workReady;
    const work = await mkdtemp(join(this.workDir, this.workOwner));
    try {
      return await use(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Work directories of a process of this host that is gone (killed mid-download or mid-build)
   * are removed before the first use; those of other hosts (workers sharing a volume) are theirs.
   */
  private async removeStaleWork(): Promise<void> {
    await mkdir(this.workDir, { recursive: true });
    const host = this.workOwner.split('~')[0]!;
    const stale = (await readdir(this.workDir)).filter((name) => {
      const [owner, pid] = name.split('~');
      if (owner !== host) return false;
      const id = Number(pid);
      return !Number.isInteger(id) || id === process.pid || !processAlive(id);
    });
    await Promise.all(stale.map((name) => rm(join(this.workDir, name), { recursive: true, force: true })));
  }

  /**
   * Uploads every file of the built store, then the pointer. A failed upload removes what it
   * wrote; a crashed one leaves objects no pointer names, removed by the task's next publish
   * (attempts older than the published one) or by its removal.
   */
  private async publishStore(base: string, storeDir: string): Promise<void> {
    const attempt = newAttemptId();
    const attemptPrefix = `${base}${RESULTS_PREFIX}/${attempt}/`;
    const names = (await readdir(storeDir, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
    const files: StorePointer['files'] = [];
    try {
      await inBatches(names, this.uploadConcurrency, async (name) => {
        const info = await this.objects.putFile(`${attemptPrefix}${name}`, join(storeDir, name));
        files.push({ name, size: info.size, etag: info.etag });
      });
      const pointer: StorePointer = { format: 1, attempt, files: files.sort((a, b) => a.name.localeCompare(b.name)) };
      await this.objects.putBytes(`${base}${POINTER_OBJECT}`, JSON.stringify(pointer), 'application/json');
    } catch (error) {
      await this.objects
        .list(attemptPrefix)
        .then((keys) => this.objects.deleteMany(keys))
        .catch(() => undefined);
      throw error;
    }
    const listed = await this.objects.list(`${base}${RESULTS_PREFIX}/`).catch(() => [] as string[]);
    const stale = listed.filter((key) => {
      const other = key.slice(`${base}${RESULTS_PREFIX}/`.length).split('/')[0] ?? '';
      return other < attempt;
    });
    // The store is published: failing to tidy older attempts must not fail the ingest.
    await this.objects.deleteMany(stale).catch(() => undefined);
  }
}
