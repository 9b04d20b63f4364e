import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '@nessus-mcp/core/errors';
import { validateScanCredentials } from './credentials.js';
import { formatScanName } from './scan-name.js';
import type { CreateScanRequest, ExportOptions, OwnScan, ScanState, ScanStatus, Scanner, ScannerHealth } from './scanner.js';
import { TERMINAL_SCAN_STATES } from './scanner.js';

export type MockOperation = 'createScan' | 'launchScan' | 'getStatus' | 'stopScan' | 'exportReport' | 'deleteScan' | 'checkHealth' | 'listOwnScans';

export interface MockOutcome {
  /** How long a launched scan runs before its final state. Default 2 s. */
  durationMs: number;
  /** Share of `durationMs` spent `pending` before `running`. Default 0.1. */
  pendingShare: number;
  /** Where a scan ends when nobody stops it. */
  finalState: 'completed' | 'failed';
}

export interface MockScannerOptions {
  poolName?: string;
  instanceId?: string;
  outcome?: Partial<MockOutcome>;
  /** A `.nessus` file copied as every export; default: a small generated report, one host per target. */
  exportFixture?: string;
  /** Clock, for tests that step time by hand. */
  now?: () => number;
}

export interface MockScanRecord {
  scanId: string;
  taskId: string;
  name: string;
  request: CreateScanRequest;
  launchedAt: number | null;
  /** State fixed by a stop, a forced finish, or reached on its own. */
  settled: { state: ScanState; rawStatus: string } | null;
  outcome: MockOutcome;
  launches: number;
}

export interface MockCall {
  operation: MockOperation;
  scanId?: string;
}

interface PlannedFailure {
  error: Error;
  remaining: number;
}

const RAW_FOR_FINAL: Record<MockOutcome['finalState'], string> = { completed: 'completed', failed: 'aborted' };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/**
 * In-process `Scanner` with no HTTP, for unit tests of the worker and the gateway. Scans move
 * `empty → pending → running → completed|aborted` on a clock; failures can be planned per
 * operation, scans finished or stopped by hand, and every call is recorded.
 */
export class MockScanner implements Scanner {
  readonly kind = 'mock';
  readonly poolName: string;
  readonly instanceId: string;
  readonly calls: MockCall[] = [];

  private outcome: MockOutcome;
  private readonly exportFixture: string | undefined;
  private readonly now: () => number;
  private readonly scans = new Map<string, MockScanRecord>();
  private readonly failures = new Map<MockOperation, PlannedFailure[]>();
  private nextId = 1;
  private health: Pick<ScannerHealth, 'healthy' | 'status' | 'message' | 'scanApi'> = { healthy: true, status: 'ok', message: null, scanApi: true };

  constructor(options: MockScannerOptions = {}) {
    this.poolName = options.poolName ?? 'mock';
    this.instanceId = options.instanceId ?? 'mock-1';
    this.outcome = { durationMs: 2_000, pendingShare: 0.1, finalState: 'completed', ...options.outcome };
    this.exportFixture = options.exportFixture;
    this.now = options.now ?? Date.now;
  }

  // ---- controls ----

  /** Outcome of scans launched from now on. */
  setOutcome(outcome: Partial<MockOutcome>): void {
    this.outcome = { ...this.outcome, ...outcome };
  }

  /** The next `times` calls of `operation` throw `error` (e.g. an AppError with `retryable`). */
  failNext(operation: MockOperation, error: Error, times = 1): void {
    const list = this.failures.get(operation) ?? [];
    list.push({ error, remaining: times });
    this.failures.set(operation, list);
  }

  /** Ends a scan now, whatever its clock says. */
  finish(scanId: string, finalState: MockOutcome['finalState'] = 'completed'): void {
    this.record(scanId).settled = { state: finalState, rawStatus: RAW_FOR_FINAL[finalState] };
  }

  setHealth(health: Partial<Pick<ScannerHealth, 'healthy' | 'status' | 'message' | 'scanApi'>>): void {
    this.health = { ...this.health, ...health };
  }

  scan(scanId: string): MockScanRecord | undefined {
    return this.scans.get(scanId);
  }

  allScans(): MockScanRecord[] {
    return [...this.scans.values()];
  }

  // ---- Scanner ----

  async createScan(request: CreateScanRequest, signal?: AbortSignal): Promise<{ scanId: string }> {
    this.enter('createScan', undefined, signal);
    validateScanCredentials(request.scanType, request.credentials);
    if (request.targets.length === 0) throw new AppError('invalid_argument', 'targets must not be empty');
    const scanId = String(this.nextId++);
    this.scans.set(scanId, {
      scanId,
      taskId: request.taskId,
      name: formatScanName(request.taskId, request.name),
      request: { ...request, targets: [...request.targets] },
      launchedAt: null,
      settled: null,
      outcome: this.outcome,
      launches: 0,
    });
    return { scanId };
  }

  async launchScan(scanId: string, signal?: AbortSignal): Promise<{ runId: string }> {
    this.enter('launchScan', scanId, signal);
    const scan = this.record(scanId);
    const { state } = this.statusOf(scan);
    if (state === 'queued' && scan.launchedAt !== null) throw new AppError('conflict', `mock scan ${scanId} is already pending`);
    if (state === 'running') throw new AppError('conflict', `mock scan ${scanId} is already running`);
    scan.launchedAt = this.now();
    scan.settled = null;
    scan.outcome = this.outcome;
    scan.launches += 1;
    return { runId: randomUUID() };
  }

  async getStatus(scanId: string, signal?: AbortSignal): Promise<ScanStatus> {
    this.enter('getStatus', scanId, signal);
    const scan = this.record(scanId);
    return { ...this.statusOf(scan), hostsTotal: scan.request.targets.length };
  }

  async stopScan(scanId: string, signal?: AbortSignal): Promise<void> {
    this.enter('stopScan', scanId, signal);
    const scan = this.record(scanId);
    const { state } = this.statusOf(scan);
    if (scan.launchedAt !== null && !TERMINAL_SCAN_STATES.has(state)) scan.settled = { state: 'cancelled', rawStatus: 'canceled' };
  }

  async exportReport(scanId: string, destPath: string, options: ExportOptions = {}): Promise<{ bytes: number }> {
    this.enter('exportReport', scanId, options.signal);
    const scan = this.record(scanId);
    if (!TERMINAL_SCAN_STATES.has(this.statusOf(scan).state)) throw new AppError('conflict', `mock scan ${scanId} is still running; it cannot be exported yet`);
    options.onProgress?.({ phase: 'requested' });
    const tmp = join(dirname(destPath), `.${basename(destPath)}.${randomUUID()}.part`);
    try {
      if (this.exportFixture) {
        await pipeline(createReadStream(this.exportFixture), createWriteStream(tmp, { flags: 'wx' }), options.signal ? { signal: options.signal } : {});
      } else {
        await writeFile(tmp, this.generatedReport(scan), { flag: 'wx' });
      }
      await rename(tmp, destPath);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const { size } = await stat(destPath);
    options.onProgress?.({ phase: 'done', bytes: size, totalBytes: size });
    return { bytes: size };
  }

  async deleteScan(scanId: string, signal?: AbortSignal): Promise<void> {
    this.enter('deleteScan', scanId, signal);
    const scan = this.scans.get(scanId);
    if (!scan) return;
    const { state } = this.statusOf(scan);
    if (state === 'running' || (state === 'queued' && scan.launchedAt !== null)) {
      throw new AppError('conflict', `mock scan ${scanId} is running; stop it before deleting`);
    }
    this.scans.delete(scanId);
  }

  async checkHealth(signal?: AbortSignal): Promise<ScannerHealth> {
    this.enter('checkHealth', undefined, signal);
    return {
      instanceId: this.instanceId,
      poolName: this.poolName,
      kind: this.kind,
      ...this.health,
      serverStatus: this.health.status === 'unreachable' ? null : this.health.status === 'starting' ? 'loading' : 'ready',
      serverProgress: null,
      version: 'mock',
      product: 'Mock scanner',
      licence: null,
      checkedAt: this.now(),
      latencyMs: 0,
    };
  }

  async listOwnScans(signal?: AbortSignal): Promise<OwnScan[]> {
    this.enter('listOwnScans', undefined, signal);
    return this.allScans().map((scan) => ({
      scanId: scan.scanId,
      taskId: scan.taskId,
      name: scan.name,
      rawStatus: this.statusOf(scan).rawStatus,
      lastModified: Math.floor((scan.launchedAt ?? 0) / 1000),
    }));
  }

  async close(): Promise<void> {}

  // ---- internals ----

  private enter(operation: MockOperation, scanId: string | undefined, signal: AbortSignal | undefined): void {
    this.calls.push(scanId === undefined ? { operation } : { operation, scanId });
    if (signal?.aborted) throw signal.reason;
    const planned = this.failures.get(operation)?.[0];
    if (planned) {
      planned.remaining -= 1;
      if (planned.remaining <= 0) this.failures.get(operation)?.shift();
      throw planned.error;
    }
  }

  private record(scanId: string): MockScanRecord {
    const scan = this.scans.get(scanId);
    if (!scan) throw new AppError('not_found', `mock scanner '${this.instanceId}' has no scan ${scanId}`);
    return scan;
  }

  private statusOf(scan: MockScanRecord): ScanStatus {
    if (scan.settled) return { ...scan.settled, progress: scan.settled.state === 'completed' ? 100 : 0 };
    if (scan.launchedAt === null) return { state: 'queued', rawStatus: 'empty', progress: 0 };
    const { durationMs, pendingShare, finalState } = scan.outcome;
    const elapsed = this.now() - scan.launchedAt;
    if (elapsed >= durationMs) {
      scan.settled = { state: finalState, rawStatus: RAW_FOR_FINAL[finalState] };
      return this.statusOf(scan);
    }
    const pendingMs = durationMs * pendingShare;
    if (elapsed < pendingMs) return { state: 'queued', rawStatus: 'pending', progress: 0 };
    const progress = Math.min(99, Math.floor(((elapsed - pendingMs) / (durationMs - pendingMs)) * 100));
    return { state: 'running', rawStatus: 'running', progress };
  }

  /** A minimal well-formed NessusClientData_v2: one ReportHost per target with plugin 19506. */
  private generatedReport(scan: MockScanRecord): string {
    const credentialed = scan.request.scanType === 'untrusted' ? 'no' : 'yes';
    const hosts = scan.request.targets
      .map((target) => {
        const t = escapeXml(target);
        return (
          `<ReportHost name="${t}"><HostProperties><tag name="host-ip">${t}</tag></HostProperties>` +
          `<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" pluginName="Nessus Scan Information" pluginFamily="Settings">` +
          `<plugin_output>Credentialed checks : ${credentialed}</plugin_output></ReportItem></ReportHost>`
        );
      })
      .join('');
    return `<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="${escapeXml(scan.name)}">${hosts}</Report></NessusClientData_v2>\n`;
  }
}
