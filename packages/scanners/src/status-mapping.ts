import type { ScanState } from './scanner.js';

/**
 * Nessus `info.status` → ScanState (docs/nessus-api.md §B.3.8), each word placed on purpose. The
 * worker keeps polling `queued`, `running` and `unknown` (bounded by its wall-clock timeout).
 * - `empty` (never launched), `pending`, `initializing` (Tenable VM's start-up phase): queued.
 * - `running`, `processing`, `publishing` (results being written out before `completed`): running.
 * - `pausing`, `paused`, `resuming`: running. Only a person pauses a scan (this system never
 *   does); it resumes where it stopped, so the task waits for it, within its time limit.
 * - `stopping`: running until it settles as `canceled`.
 * - `canceled`, `stopped` (Tenable VM's word for a stopped scan): cancelled.
 * - `completed`, `imported` (results loaded from a file: nothing left to run; rapidast treats it
 *   as an end state): completed.
 * - `aborted`: failed.
 */
const STATUS_MAP: Readonly<Record<string, ScanState>> = {
  '': 'queued',
  empty: 'queued',
  pending: 'queued',
  initializing: 'queued',
  running: 'running',
  processing: 'running',
  publishing: 'running',
  pausing: 'running',
  paused: 'running',
  resuming: 'running',
  stopping: 'running',
  completed: 'completed',
  imported: 'completed',
  canceled: 'cancelled',
  stopped: 'cancelled',
  aborted: 'failed',
};

export function mapNessusStatus(raw: string | null | undefined): ScanState {
  const key = (raw ?? '').trim().toLowerCase();
  return Object.hasOwn(STATUS_MAP, key) ? (STATUS_MAP[key] as ScanState) : 'unknown';
}

export interface HostProgress {
  scanprogresscurrent?: number | string | null;
  scanprogresstotal?: number | string | null;
}

function toNumber(value: number | string | null | undefined): number {
  const n = typeof value === 'string' ? Number(value) : (value ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * `info` has no progress field (docs/nessus-api.md §B.3.7): progress is Σ scanprogresscurrent /
 * Σ scanprogresstotal over the hosts, clamped to 0–100 and forced to 100 once completed.
 * `hosts[]` only lists hosts the scan has started on, so when `hostCount` (info.hostcount) says
 * more are coming, each missing host counts as 0 of the listed hosts' mean total; otherwise the
 * figure would drop every time a new host joins.
 */
export function computeProgress(hosts: readonly HostProgress[] | null | undefined, state: ScanState, hostCount?: number | null): number {
  if (state === 'completed') return 100;
  const listed = hosts ?? [];
  let current = 0;
  let total = 0;
  for (const host of listed) {
    current += toNumber(host.scanprogresscurrent);
    total += toNumber(host.scanprogresstotal);
  }
  if (total === 0) return 0;
  const missing = Math.max(0, (hostCount ?? 0) - listed.length);
  total += missing * (total / listed.length);
  return Math.min(100, Math.max(0, Math.floor((current / total) * 100)));
}
