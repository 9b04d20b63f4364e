import type { ScanCredentials } from '@nessus-mcp/core/scan-credentials';

export type { ScanCredentials };

/**
 * The pluggable scanner contract. The worker and the gateway only ever see this interface, so a
 * second backend (OpenVAS, a cloud scanner) is one more implementation, not a change upstream.
 */

/** Scan states this system reasons about; each backend maps its own vocabulary onto them. */
export type ScanState = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' | 'unknown';

export const TERMINAL_SCAN_STATES: ReadonlySet<ScanState> = new Set(['completed', 'cancelled', 'failed']);

export type ScanType = 'untrusted' | 'trusted' | 'privileged';

export interface CreateScanRequest {
  /** This system's task id; carried in the scan name so housekeeping can recognise its scans. */
  taskId: string;
  name: string;
  description?: string;
  targets: string[];
  scanType: ScanType;
  /** Required for `trusted` and `privileged`; ignored (never sent) for `untrusted`. */
  credentials?: ScanCredentials;
  /** Template name as listed by the scanner (`advanced`, `basic`, ...). Default `advanced`. */
  template?: string;
}

export interface ScanStatus {
  state: ScanState;
  /** The backend's own status word, kept for display and troubleshooting. */
  rawStatus: string;
  /** 0–100; 100 once completed. */
  progress: number;
  hostsTotal?: number;
}

export type ExportPhase = 'requested' | 'waiting' | 'downloading' | 'done';

export interface ExportProgress {
  phase: ExportPhase;
  /** Bytes written so far (downloading/done). */
  bytes?: number;
  /** Content-Length announced by the scanner, when it sent one. */
  totalBytes?: number;
}

export interface ExportOptions {
  signal?: AbortSignal;
  /**
   * An export requested by an earlier, interrupted attempt: its status is polled instead of
   * asking for a new one (a new one is requested when the scanner no longer knows it).
   */
  resumeFile?: string;
  /** Called with each export file id the scanner hands out, before polling it (to record it). */
  onExportFile?: (file: string) => Promise<void> | void;
  onProgress?: (progress: ExportProgress) => void;
  /** Refuse (and delete) a download larger than this many bytes. */
  maxBytes?: number;
  /** Free space at the destination: a download whose announced size exceeds it is refused before writing. */
  freeBytes?: number;
}

export interface ScannerLicence {
  type: string | null;
  name: string | null;
  restricted: boolean | null;
  ips: number | null;
}

export type ScannerHealthStatus =
  /** Reachable, logged in, plugins loaded and scan control allowed. */
  | 'ok'
  /**
   * Reachable but starting or compiling plugins (`/server/status` answers 503 `loading`): not
   * selected for new scans, not failed; queued scans wait for it.
   */
  | 'starting'
  /** Reachable, but its licence refuses scan control over the API (`scan_api: false`). */
  | 'licence_restricted'
  /** Reachable, but our API keys / username / password were rejected. */
  | 'unauthorized'
  /** Not reachable (connection refused, timeout, TLS failure, 5xx). */
  | 'unreachable';

export interface ScannerHealth {
  instanceId: string;
  poolName: string;
  kind: string;
  /** True only when `status` is `ok`: new scans can be sent there. */
  healthy: boolean;
  status: ScannerHealthStatus;
  /** The scanner's own status word (`ready`, `loading`, ...), null when unreachable. */
  serverStatus: string | null;
  /** Start-up progress (0–100) while `starting`, as `/server/status` reports it; null otherwise. */
  serverProgress: number | null;
  version: string | null;
  product: string | null;
  licence: ScannerLicence | null;
  /** `features.scan_api` from `/server/properties`; null when the server does not say. */
  scanApi: boolean | null;
  /** A human-readable reason when not healthy (never contains secrets). */
  message: string | null;
  checkedAt: number;
  latencyMs: number;
}

export interface OwnScan {
  scanId: string;
  taskId: string;
  name: string;
  rawStatus: string;
  /** Epoch seconds, as Nessus reports it. */
  lastModified: number;
}

export interface Scanner {
  /** Backend kind (`nessus`, `mock`, ...). */
  readonly kind: string;
  readonly poolName: string;
  readonly instanceId: string;

  /** Creates the scan in this system's own folder (created if missing), named after the task. */
  createScan(request: CreateScanRequest, signal?: AbortSignal): Promise<{ scanId: string }>;
  launchScan(scanId: string, signal?: AbortSignal): Promise<{ runId: string }>;
  getStatus(scanId: string, signal?: AbortSignal): Promise<ScanStatus>;
  /** Idempotent: stopping a scan that is not running is not an error. */
  stopScan(scanId: string, signal?: AbortSignal): Promise<void>;
  /** Exports the scan's report and streams it to `destPath` (written to a temp file, then renamed). */
  exportReport(scanId: string, destPath: string, options?: ExportOptions): Promise<{ bytes: number }>;
  /** Idempotent: deleting a scan that no longer exists is not an error. */
  deleteScan(scanId: string, signal?: AbortSignal): Promise<void>;
  /** Never throws for an unhealthy scanner (only when aborted): the result says what is wrong. */
  checkHealth(signal?: AbortSignal): Promise<ScannerHealth>;
  /** Only scans this system created (its folder, a name carrying a task id). */
  listOwnScans(signal?: AbortSignal): Promise<OwnScan[]>;
  /** Releases connections (keep-alive sockets). */
  close(): Promise<void>;
}

/** The subset of a pino logger this package uses; pass a child logger. */
export interface ScannerLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: ScannerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** One call to a scanner's API, for metrics (Nessus API calls by route and status). */
export interface ApiCallEvent {
  instanceId: string;
  method: string;
  /** Templated route, e.g. `/scans/:id/export/:file/status`. */
  route: string;
  /** HTTP status, or 0 when no response arrived (network error, timeout, abort). */
  status: number;
  durationMs: number;
}

export type ApiCallHook = (event: ApiCallEvent) => void;
