import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@nessus-mcp/core/errors';
import { MANIFEST_FILE } from './layout.js';
import type { ObjectStore } from './object-store.js';

/**
 * The small object published last by a store upload: which attempt's objects form the store,
 * with each one's size and ETag. Readers follow it, so a store is seen whole or not at all.
 */
export interface StorePointer {
  format: 1;
  attempt: string;
  files: { name: string; size: number; etag: string }[];
}

export function parseStorePointer(bytes: Buffer): StorePointer {
  const pointer = JSON.parse(bytes.toString('utf8')) as StorePointer;
  if (pointer.format !== 1 || typeof pointer.attempt !== 'string' || !/^[a-z0-9-]+$/.test(pointer.attempt) || !Array.isArray(pointer.files)) {
    throw new AppError('not_ready', 'The result store of this task is unreadable; ingest the export again.');
  }
  for (const file of pointer.files) {
    if (typeof file.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(file.name)) {
      throw new AppError('not_ready', 'The result store of this task is unreadable; ingest the export again.');
    }
  }
  return pointer;
}

interface CachedStore {
  taskId: string;
  attempt: string;
  pointerEtag: string;
  directory: string;
  bytes: number;
}

/** Where a task's store objects are in the bucket (see S3TaskFiles). */
export interface StoreObjects {
  pointerKey: string;
  objectKey(attempt: string, name: string): string;
}

/**
 * The gateway's local copies of result stores held in object storage, under `root`. A store is
 * downloaded whole on first use (`ResultStore.open` reads local files), kept while it is among
 * the most recently used within `maxBytes`, and revalidated on every use by a conditional GET of
 * its pointer (If-None-Match on the pointer's ETag): a re-ingested task is downloaded again, a
 * deleted one dropped. Each downloaded object's ETag must match the one the pointer recorded,
 * or the copy is discarded. Everything here can be deleted at any time: it is downloaded again.
 */
export class StoreDownloads {
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly cached = new Map<string, CachedStore>();
  private readonly inFlight = new Map<string, Promise<CachedStore>>();
  private totalBytes = 0;
  private cleared: Promise<void> | null = null;
  /** Stores downloaded since start (a figure for tests and metrics). */
  downloads = 0;

  constructor(
    private readonly objects: ObjectStore,
    private readonly root: string,
    private readonly maxBytes: number,
  ) {}

  get cachedBytes(): number {
    return this.totalBytes;
  }

  /** The local directory of the task's current store; a directory that does not exist when it has none. */
  async directoryFor(taskId: string, where: StoreObjects): Promise<string> {
    await this.clearLeftovers();
    const known = this.cached.get(taskId);
    const answer = await this.objects.getIfChanged(where.pointerKey, known?.pointerEtag);
    if (answer === null) {
      await this.forget(taskId);
      return join(this.root, taskId, 'none');
    }
    if (answer === 'unchanged' && known && (await this.stillOnDisk(known))) return this.touch(known).directory;
    const pointer = answer === 'unchanged' ? null : parseStorePointer(answer.bytes);
    if (known && pointer && known.attempt === pointer.attempt && (await this.stillOnDisk(known))) {
      known.pointerEtag = answer === 'unchanged' ? known.pointerEtag : answer.etag;
      return this.touch(known).directory;
    }
    // A copy deleted from disk behind our back (or a 304 with nothing cached) is fetched again, unconditionally.
    const fresh = pointer && answer !== 'unchanged' ? { pointer, etag: answer.etag } : await this.fetchPointer(where);
    if (!fresh) {
      await this.forget(taskId);
      return join(this.root, taskId, 'none');
    }
    const key = `${taskId}/${fresh.pointer.attempt}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.materialise(taskId, fresh.pointer, fresh.etag, where).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const entry = await pending;
    return entry.directory;
  }

  /** Drops the task's local copy (deleted or about to be). */
  async forget(taskId: string): Promise<void> {
    const known = this.cached.get(taskId);
    if (known) {
      this.cached.delete(taskId);
      this.totalBytes -= known.bytes;
    }
    await rm(join(this.root, taskId), { recursive: true, force: true });
  }

  /** Copies left by an earlier process are not indexed, so they are removed once, before first use. */
  private clearLeftovers(): Promise<void> {
    this.cleared ??= rm(this.root, { recursive: true, force: true })
      .then(() => mkdir(this.root, { recursive: true }))
      .then(() => undefined);
    return this.cleared;
  }

  private async fetchPointer(where: StoreObjects): Promise<{ pointer: StorePointer; etag: string } | null> {
    const answer = await this.objects.getIfChanged(where.pointerKey, undefined);
    if (answer === null || answer === 'unchanged') return null;
    return { pointer: parseStorePointer(answer.bytes), etag: answer.etag };
  }

  private touch(entry: CachedStore): CachedStore {
    this.cached.delete(entry.taskId);
    this.cached.set(entry.taskId, entry);
    return entry;
  }

  private async stillOnDisk(entry: CachedStore): Promise<boolean> {
    try {
      await stat(join(entry.directory, MANIFEST_FILE));
      return true;
    } catch {
      return false;
    }
  }

  private async materialise(taskId: string, pointer: StorePointer, pointerEtag: string, where: StoreObjects): Promise<CachedStore> {
    const taskDir = join(this.root, taskId);
    const staging = join(taskDir, `.download-${randomUUID().slice(0, 8)}`);
    const directory = join(taskDir, pointer.attempt);
    await mkdir(staging, { recursive: true });
    try {
      await Promise.all(
        pointer.files.map(async (file) => {
          const info = await this.objects.download(where.objectKey(pointer.attempt, file.name), join(staging, file.name));
          if (!info || info.etag !== file.etag || info.size !== file.size) {
            throw new AppError('not_ready', 'The results of this task changed while they were being read; ask again.', { retryable: true });
          }
        }),
      );
      await rm(directory, { recursive: true, force: true });
      await rename(staging, directory);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    this.downloads += 1;
    const previous = this.cached.get(taskId);
    if (previous && previous.attempt !== pointer.attempt) {
      this.cached.delete(taskId);
      this.totalBytes -= previous.bytes;
      await rm(previous.directory, { recursive: true, force: true });
    } else if (previous) {
      this.cached.delete(taskId);
      this.totalBytes -= previous.bytes;
    }
    const entry: CachedStore = { taskId, attempt: pointer.attempt, pointerEtag, directory, bytes: pointer.files.reduce((sum, file) => sum + file.size, 0) };
    this.cached.set(taskId, entry);
    this.totalBytes += entry.bytes;
    await this.evict(entry);
    return entry;
  }

  /**
   * Least recently used stores go first until the total fits. The store just used is kept even
   * when it alone exceeds the budget: the page being answered needs it.
   */
  private async evict(keep: CachedStore): Promise<void> {
    for (const entry of [...this.cached.values()]) {
      if (this.totalBytes <= this.maxBytes) break;
      if (entry === keep) continue;
      // Only the copy itself: a download of the task's newer store may be under way beside it.
      this.cached.delete(entry.taskId);
      this.totalBytes -= entry.bytes;
      await rm(entry.directory, { recursive: true, force: true });
    }
  }
}
