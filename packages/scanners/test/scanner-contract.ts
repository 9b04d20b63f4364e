import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import type { ScannerInstanceConfig } from '../src/config.js';
import { NessusScanner } from '../src/nessus-client.js';
import type { ScanStatus } from '../src/scanner.js';

/**
 * One behavioural suite for the Nessus client, run against the recorded-shape fake server and
 * against the simulator, so both stand for the same documented Nessus behaviour.
 */
export interface ContractFaults {
  licence_412?: 'clean' | 'drop' | 'empty' | null;
  error_rate?: number;
  export_mode?: 'ok' | 'stuck' | 'error';
  scan_outcome?: 'completed' | 'aborted';
}

export interface ContractTarget {
  url: string;
  apiKeys: { access: string; secret: string };
  login: { username: string; password: string };
  setFaults(patch: ContractFaults): Promise<void>;
  /** Restores every fault to its default. */
  resetFaults(): Promise<void>;
  /** Makes the session token the client holds invalid (its next call gets 401 "Invalid Credentials"). */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

let taskCounter = 0;
export function newTaskId(): string {
  taskCounter += 1;
  return `ne_scan_20251201_143022_${(0xa1b2c300 + taskCounter).toString(16)}`;
}

export async function waitForTerminal(scanner: NessusScanner, scanId: string): Promise<ScanStatus[]> {
  const seen: ScanStatus[] = [];
  for (let i = 0; i < 300; i += 1) {
    const status = await scanner.getStatus(scanId);
    seen.push(status);
    if (['completed', 'cancelled', 'failed'].includes(status.state)) return seen;
    await sleep(50);
  }
  throw new Error(`scan ${scanId} did not finish; last ${JSON.stringify(seen.at(-1))}`);
}

export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

export function describeNessusContract(label: string, start: () => Promise<ContractTarget>): void {
  describe(`Nessus client contract against ${label}`, () => {
    let target: ContractTarget;
    let dir: string;
    const clients: NessusScanner[] = [];

    const instance = (auth: 'keys' | 'session', extra: Partial<ScannerInstanceConfig> = {}): ScannerInstanceConfig => ({
      instance_id: 'contract-1',
      name: 'Contract',
      url: target.url,
      ...(auth === 'keys' ? { access_key: target.apiKeys.access, secret_key: target.apiKeys.secret } : { username: target.login.username, password: target.login.password }),
      max_concurrent_scans: 2,
      enabled: true,
      tls_verify: true,
      timeout_ms: 5_000,
      ...extra,
    });
    const client = (auth: 'keys' | 'session' = 'keys'): NessusScanner => {
      const scanner = new NessusScanner({ poolName: 'contract', instance: instance(auth), folder: 'nessus-mcp-contract', exportPoll: { initialMs: 20, maxMs: 100, baseTimeoutMs: 400, perHostMs: 0 } });
      clients.push(scanner);
      return scanner;
    };
    const completedScan = async (scanner: NessusScanner): Promise<string> => {
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'contract', targets: ['127.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      await waitForTerminal(scanner, scanId);
      return scanId;
    };

    beforeAll(async () => {
      target = await start();
      dir = await mkdtemp(join(tmpdir(), 'nmcp-contract-'));
    });
    afterEach(async () => {
      await target.resetFaults();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await target.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('runs a scan from creation to a downloaded .nessus report and deletes it', async () => {
      const scanner = client();
      const taskId = newTaskId();
      const { scanId } = await scanner.createScan({ taskId, name: 'Weekly DMZ', targets: ['127.0.0.1', '127.0.0.2'], scanType: 'untrusted' });
      expect((await scanner.getStatus(scanId)).state).toBe('queued');
      expect(await scanner.listOwnScans()).toEqual(expect.arrayContaining([expect.objectContaining({ scanId, taskId, name: `[nmcp:${taskId}] Weekly DMZ` })]));

      const { runId } = await scanner.launchScan(scanId);
      expect(runId).toHaveLength(52);
      const statuses = await waitForTerminal(scanner, scanId);
      const final = statuses.at(-1);
      expect(final).toMatchObject({ state: 'completed', rawStatus: 'completed', progress: 100 });
      const progresses = statuses.map((s) => s.progress);
      expect(progresses).toEqual([...progresses].sort((a, b) => a - b));

      const dest = join(dir, `${taskId}.nessus`);
      const phases: string[] = [];
      const { bytes } = await scanner.exportReport(scanId, dest, { onProgress: (p) => phases.push(p.phase) });
      expect((await stat(dest)).size).toBe(bytes);
      const text = await readFile(dest, 'utf8');
      expect(text).toContain('<NessusClientData_v2');
      expect(text).toContain('127.0.0.2');
      expect(phases[0]).toBe('requested');
      expect(phases.at(-1)).toBe('done');

      await scanner.deleteScan(scanId);
      expect((await scanner.listOwnScans()).map((s) => s.scanId)).not.toContain(scanId);
      await expect(scanner.deleteScan(scanId)).resolves.toBeUndefined();
      await expect(scanner.getStatus(scanId)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('logs in with username and password and reports a healthy scanner with its licence', async () => {
      const scanner = client('session');
      const health = await scanner.checkHealth();
      expect(health).toMatchObject({ healthy: true, status: 'ok', serverStatus: 'ready', scanApi: true });
      expect(health.version).toEqual(expect.any(String));
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'session auth', targets: ['127.0.0.1'], scanType: 'untrusted' });
      expect((await scanner.getStatus(scanId)).state).toBe('queued');
    });

    it('logs in again once when the session expires mid-run and carries on', async () => {
      const scanner = client('session');
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'expiring session', targets: ['127.0.0.1'], scanType: 'untrusted' });
      await target.expireSessions();
      await scanner.launchScan(scanId);
      expect((await waitForTerminal(scanner, scanId)).at(-1)?.state).toBe('completed');
    });

    it('stops a running scan and treats a second stop as done', async () => {
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'to stop', targets: ['127.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      await scanner.stopScan(scanId);
      const final = (await waitForTerminal(scanner, scanId)).at(-1);
      expect(final).toMatchObject({ state: 'cancelled', rawStatus: 'canceled' });
      await expect(scanner.stopScan(scanId)).resolves.toBeUndefined();
    });

    it('reports a scan that ends aborted as failed', async () => {
      await target.setFaults({ scan_outcome: 'aborted' });
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'aborting', targets: ['127.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      expect((await waitForTerminal(scanner, scanId)).at(-1)).toMatchObject({ state: 'failed', rawStatus: 'aborted' });
    });

    for (const variant of ['clean', 'drop', 'empty'] as const) {
      it(`turns the licence refusal (412, ${variant}) into a non-retryable scanner_unavailable error`, async () => {
        await target.setFaults({ licence_412: variant });
        const scanner = client();
        const error = await rejection(scanner.createScan({ taskId: newTaskId(), name: 'licence', targets: ['127.0.0.1'], scanType: 'untrusted' }));
        expect(error.code).toBe('scanner_unavailable');
        expect(error.retryable).toBe(false);
        expect(error.message).toContain('does not allow scan control over the API');
        expect(error.details).toMatchObject({ status: 412 });
        expect(await scanner.checkHealth()).toMatchObject({ healthy: false, status: 'licence_restricted', scanApi: false });
      });
    }

    it('reports 5xx answers as retryable scanner errors', async () => {
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'flaky', targets: ['127.0.0.1'], scanType: 'untrusted' });
      await target.setFaults({ error_rate: 1 });
      const error = await rejection(scanner.getStatus(scanId));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true });
      expect(Number(error.details?.status)).toBeGreaterThanOrEqual(500);
    });

    it('fails an export the scanner could not generate as retryable, leaving no file', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      await target.setFaults({ export_mode: 'error' });
      const dest = join(dir, 'failed-export.nessus');
      const error = await rejection(scanner.exportReport(scanId, dest));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true });
      expect(error.details).toMatchObject({ export_status: 'error' });
      expect((await readdir(dir)).filter((f) => f.includes('failed-export'))).toEqual([]);
    });

    it('gives up on an export stuck in loading after its time budget, as retryable', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      await target.setFaults({ export_mode: 'stuck' });
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'stuck.nessus')));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true });
      expect(error.details).toMatchObject({ export_status: 'loading' });
    });
  });
}
