import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@nessus-mcp/core/errors';
import type { CursorCodec, ResultQueryInput, TaskMetadata } from '@nessus-mcp/schema';
import { MANIFEST_FILE } from './layout.js';
import { queryResults, processCursorCodec } from './query.js';
import type { ResultPage } from './query.js';
import { ResultStore } from './store.js';
import type { ResultStoreOptions } from './store.js';

export interface ResultStoreCacheOptions extends ResultStoreOptions {
  /** Open stores kept (least recently used evicted). Each holds its loaded columns and caches. */
  maxStores?: number;
  /** Signs page cursors (default: a random key per process). */
  cursors?: CursorCodec;
}

interface CachedStore {
  identity: string;
  store: Promise<ResultStore>;
}

/**
 * The gateway's entry point: keeps the most recently queried stores open so a page costs only
 * its own reads, while memory stays bounded however many pages or tasks are served. A store
 * re-ingested since it was opened (new manifest) is reopened.
 */
export class ResultStoreCache {
  private readonly maxStores: number;
  private readonly storeOptions: ResultStoreOptions;
  private readonly stores = new Map<string, CachedStore>();
  private readonly cursors: CursorCodec | undefined;

  constructor(options: ResultStoreCacheOptions = {}) {
    this.cursors = options.cursors;
    this.maxStores = Math.max(1, options.maxStores ?? 8);
    this.storeOptions = options.selectionCacheSize === undefined ? {} : { selectionCacheSize: options.selectionCacheSize };
  }

  /** Signs and checks every page cursor this gateway issues (results, comparisons, searches). */
  get cursorCodec(): CursorCodec {
    return this.cursors ?? processCursorCodec();
  }

  async open(directory: string): Promise<ResultStore> {
    const identity = await this.identityOf(directory);
    const cached = this.stores.get(directory);
    this.stores.delete(directory);
    if (cached && cached.identity === identity) {
      this.stores.set(directory, cached);
      return cached.store;
    }
    const store = ResultStore.open(directory, this.storeOptions);
    const entry: CachedStore = { identity, store };
    this.stores.set(directory, entry);
    store.catch(() => {
      if (this.stores.get(directory) === entry) this.stores.delete(directory);
    });
    while (this.stores.size > this.maxStores) {
      const oldest = this.stores.keys().next();
      if (oldest.done) break;
      this.stores.delete(oldest.value);
    }
    return store;
  }

  /** `get_scan_results` over the store in `directory` (see `TaskFiles.resultStoreDirectory`). */
  async query(directory: string, input: ResultQueryInput, task: TaskMetadata): Promise<ResultPage> {
    return queryResults(await this.open(directory), input, task, this.cursors ? { cursors: this.cursors } : {});
  }

  /** Forget a task (deleted, or about to be re-ingested). */
  evict(directory: string): void {
    this.stores.delete(directory);
  }

  get openStores(): number {
    return this.stores.size;
  }

  private async identityOf(directory: string): Promise<string> {
    try {
      const info = await stat(join(directory, MANIFEST_FILE));
      return `${info.ino}:${info.mtimeMs}:${info.size}`;
    } catch {
      this.stores.delete(directory);
      throw new AppError('not_ready', 'The results of this task are not ready: the export has not been ingested yet.');
    }
  }
}
