import type { Fingerprints } from './fingerprints.js';

/**
 * How a finding changed between a base scan and a newer one, by identity:
 * `new` only in the newer scan; `fixed` only in the base, and the newer scan covered the host;
 * `not_rescanned` only in the base, host absent from the newer scan (no evidence of a fix);
 * `persisting` in both with the same severity; `changed` in both with another severity.
 */
export const CHANGE_CLASSES = ['new', 'fixed', 'not_rescanned', 'persisting', 'changed'] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

export const NEW = 0;
export const FIXED = 1;
export const NOT_RESCANNED = 2;
export const PERSISTING = 3;
export const CHANGED = 4;

export type ChangeCounts = Record<ChangeClass, number>;

/** The join of two fingerprints: one entry per finding of either scan, in identity order. */
export interface Delta {
  readonly size: number;
  /** Class code per entry (index into CHANGE_CLASSES). */
  readonly change: Uint8Array;
  /** Fingerprint entry in the base scan, -1 for `new`. */
  readonly base: Int32Array;
  /** Fingerprint entry in the newer scan, -1 for `fixed` and `not_rescanned`. */
  readonly next: Int32Array;
}

export function emptyCounts(): ChangeCounts {
  return { new: 0, fixed: 0, not_rescanned: 0, persisting: 0, changed: 0 };
}

/**
 * Merge join of two identity-sorted fingerprints: linear in their sizes, and never looks at a
 * finding's full record. Repeated identities (the same item reported twice) pair up in order.
 */
export function diffFingerprints(base: Fingerprints, next: Fingerprints): Delta {
  const capacity = base.size + next.size;
  const change = new Uint8Array(capacity);
  const baseEntries = new Int32Array(capacity);
  const nextEntries = new Int32Array(capacity);
  // Whether the newer scan covered each base host, decided once per host.
  const covered = new Int8Array(base.hostIds.length).fill(-1);
  let size = 0;
  let i = 0;
  let j = 0;
  const push = (kind: number, b: number, n: number): void => {
    change[size] = kind;
    baseEntries[size] = b;
    nextEntries[size] = n;
    size += 1;
  };
  const gone = (b: number): number => {
    const code = base.hostCode(b);
    if (covered[code] === -1) covered[code] = next.covers(base.hostOf(b)) ? 1 : 0;
    return covered[code] === 1 ? FIXED : NOT_RESCANNED;
  };
  while (i < base.size && j < next.size) {
    const order = base.compareIdentity(i, next, j);
    if (order === 0) {
      push(base.severities[i] === next.severities[j] ? PERSISTING : CHANGED, i, j);
      i += 1;
      j += 1;
    } else if (order < 0) {
      push(gone(i), i, -1);
      i += 1;
    } else {
      push(NEW, -1, j);
      j += 1;
    }
  }
  for (; i < base.size; i += 1) push(gone(i), i, -1);
  for (; j < next.size; j += 1) push(NEW, -1, j);
  return { size, change: change.subarray(0, size), base: baseEntries.subarray(0, size), next: nextEntries.subarray(0, size) };
}

/** Whether an entry is shown from the base scan (its finding is gone from the newer one). */
export function fromBase(change: number): boolean {
  return change === FIXED || change === NOT_RESCANNED;
}
