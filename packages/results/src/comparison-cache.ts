import type { Fingerprints } from './fingerprints.js';
import type { Delta } from './delta.js';
import type { DeltaSelection } from './compare.js';
import type { StoredFingerprint } from './task-files.js';

export interface ComparisonCacheOptions {
  /** Fingerprint entries kept loaded, over all scans (about 60 bytes each). */
  maxFingerprintEntries?: number;
  /** Joins of two scans kept (9 bytes an entry). */
  maxDeltas?: number;
  /** Filtered, ordered selections kept, so paging through one comparison costs one pass. */
  maxSelections?: number;
}

interface Loaded {
  identity: string;
  fingerprints: Promise<Fingerprints | null>;
}

/** Least recently used first; `get` refreshes. */
class Lru<V> {
  readonly entries = new Map<string, V>();
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: V, max: number): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

/**
 * The gateway's cache for cross-scan answers: loaded fingerprints (one rewritten or moved since
 * is reloaded), joins and selections, each bounded, so the next page of a comparison or a
 * repeated search reads only its own records.
 */
export class ComparisonCache {
  private readonly maxEntries: number;
  private readonly maxDeltas: number;
  private readonly maxSelections: number;
  private readonly loaded = new Lru<Loaded>();
  private readonly sizes = new Map<string, number>();
  private readonly deltas = new Lru<Delta>();
  private readonly selections = new Lru<Promise<DeltaSelection>>();

  constructor(options: ComparisonCacheOptions = {}) {
    this.maxEntries = options.maxFingerprintEntries ?? 1_500_000;
    this.maxDeltas = options.maxDeltas ?? 4;
    this.maxSelections = options.maxSelections ?? 16;
  }

  /**
   * The task's fingerprint, as found by its `TaskFiles`, and an identity that changes when it is
   * rewritten or moved; null when there is none.
   */
  async fingerprints(taskId: string, stored: StoredFingerprint | null): Promise<{ fingerprints: Fingerprints; identity: string } | null> {
    if (!stored) {
      this.loaded.entries.delete(taskId);
      return null;
    }
    const identity = `${taskId}:${stored.kept}:${stored.version}`;
    let entry = this.loaded.get(taskId);
    if (!entry || entry.identity !== identity) {
      const fingerprints = stored.load();
      entry = { identity, fingerprints };
      const current = entry;
      fingerprints.then(
        (loaded) => {
          this.sizes.set(taskId, loaded?.size ?? 0);
          this.trim(taskId);
        },
        () => {
          if (this.loaded.entries.get(taskId) === current) this.loaded.entries.delete(taskId);
        },
      );
      this.loaded.set(taskId, entry, Number.POSITIVE_INFINITY);
    }
    const fingerprints = await entry.fingerprints;
    return fingerprints ? { fingerprints, identity } : null;
  }

  /** Evicts the least recently used fingerprints beyond the entry budget (never the one just loaded). */
  private trim(keep: string): void {
    let total = 0;
    for (const key of this.loaded.entries.keys()) total += this.sizes.get(key) ?? 0;
    for (const key of [...this.loaded.entries.keys()]) {
      if (total <= this.maxEntries) break;
      if (key === keep) continue;
      total -= this.sizes.get(key) ?? 0;
      this.loaded.entries.delete(key);
      this.sizes.delete(key);
    }
  }

  delta(key: string, compute: () => Delta): Delta {
    let delta = this.deltas.get(key);
    if (!delta) {
      delta = compute();
      this.deltas.set(key, delta, this.maxDeltas);
    }
    return delta;
  }

  selection(key: string, compute: () => Promise<DeltaSelection>): Promise<DeltaSelection> {
    let selection = this.selections.get(key);
    if (!selection) {
      selection = compute();
      const pending = selection;
      pending.catch(() => {
        if (this.selections.entries.get(key) === pending) this.selections.entries.delete(key);
      });
      this.selections.set(key, selection, this.maxSelections);
    }
    return selection;
  }
}
