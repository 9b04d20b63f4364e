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

/** The fault modes that play behaviours seen on real Nessus servers (the simulator has them all). */
export interface RealNessusFaults extends Omit<ContractFaults, 'licence_412' | 'export_mode'> {
  licence_412?: 'clean' | 'drop' | 'empty' | 'reset' | null;
  export_mode?: 'ok' | 'stuck' | 'error' | 'error_500_then_404' | 'lost';
  download_mode?: 'ok' | 'slow' | 'truncated' | 'expired' | 'chunked';
  server_loading?: number | null;
  running_status?: string | null;
  session_refusal?: 'too_many_users' | 'locked' | null;
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
  /** Pauses a scan the way a person in the Nessus UI would. */
  pauseScan?(scanId: string): Promise<void>;
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
      ...(auth === 'keys'
        ? { access_key: target.apiKeys.access, secret_key: target.apiKeys.secret }
        : { username: target.login.username, password: target.login.password }),
      max_concurrent_scans: 2,
      enabled: true,
      tls_verify: true,
      timeout_ms: 5_000,
      // Transient failures are retried in place; milliseconds keep the suite fast.
      http_retry_backoff_ms: 10,
      ...extra,
    });
    const client = (auth: 'keys' | 'session' = 'keys'): NessusScanner => {
      const scanner = new NessusScanner({
        poolName: 'contract',
        instance: instance(auth),
        folder: 'nessus-mcp-contract',
        exportPoll: { initialMs: 20, maxMs: 100, baseTimeoutMs: 400, perHostMs: 0 },
      });
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

    it('requests a new export when the scanner could not generate one, then fails for good, leaving no file', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      await target.setFaults({ export_mode: 'error' });
      const dest = join(dir, 'failed-export.nessus');
      const error = await rejection(scanner.exportReport(scanId, dest));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: false });
      expect(error.details).toMatchObject({ export_status: 'error', export_requests: 3 });
      expect(error.message).toMatch(/could not produce an export/);
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

/**
 * Every fault mode that plays a behaviour of real Nessus the client must survive (issue 15):
 * run against the simulator, which models them all.
 */
export function describeRealNessusModes(label: string, start: () => Promise<ContractTarget & { setRealFaults(patch: RealNessusFaults): Promise<void> }>): void {
  describe(`Nessus client against the real-Nessus fault modes of ${label}`, () => {
    let target: ContractTarget & { setRealFaults(patch: RealNessusFaults): Promise<void> };
    let dir: string;
    const clients: NessusScanner[] = [];
    const client = (auth: 'keys' | 'session' = 'keys', extra: Partial<ScannerInstanceConfig> = {}): NessusScanner => {
      const scanner = new NessusScanner({
        poolName: 'contract',
        instance: {
          instance_id: 'modes-1',
          name: 'Modes',
          url: target.url,
          ...(auth === 'keys'
            ? { access_key: target.apiKeys.access, secret_key: target.apiKeys.secret }
            : { username: target.login.username, password: target.login.password }),
          max_concurrent_scans: 2,
          enabled: true,
          tls_verify: true,
          timeout_ms: 5_000,
          http_retry_backoff_ms: 10,
          ...extra,
        },
        folder: 'nessus-mcp-modes',
        exportPoll: { initialMs: 20, maxMs: 100, baseTimeoutMs: 2_000, perHostMs: 0 },
      });
      clients.push(scanner);
      return scanner;
    };
    const launched = async (scanner: NessusScanner): Promise<string> => {
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'modes', targets: ['127.0.0.1', '127.0.0.2'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      return scanId;
    };
    const completedScan = async (scanner: NessusScanner): Promise<string> => {
      const scanId = await launched(scanner);
      await waitForTerminal(scanner, scanId);
      return scanId;
    };

    beforeAll(async () => {
      target = await start();
      dir = await mkdtemp(join(tmpdir(), 'nmcp-modes-'));
    });
    afterEach(async () => {
      await target.resetFaults();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await target.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('licence_412 reset: a connection closed before any status line on POST /scans is the licence error once /server/properties says so', async () => {
      await target.setRealFaults({ licence_412: 'reset' });
      const error = await rejection(client().createScan({ taskId: newTaskId(), name: 'reset', targets: ['127.0.0.1'], scanType: 'untrusted' }));
      expect(error).toMatchObject({ code: 'scanner_unavailable', retryable: false });
      expect(error.message).toContain('does not allow scan control over the API');
    });

    it('a launch of a running scan answers 500 with the documented text, and the scan runs on', async () => {
      const scanner = client();
      const scanId = await launched(scanner);
      const error = await rejection(scanner.launchScan(scanId));
      expect(error).toMatchObject({
        code: 'scanner_error',
        retryable: true,
        details: expect.objectContaining({ status: 500, nessus_error: expect.stringContaining('already running') }),
      });
      expect(['queued', 'running']).toContain((await scanner.getStatus(scanId)).state);
    });

    it('a delete of an active scan answers 500, a stop of a paused one 409 (reported as nothing to stop)', async () => {
      const scanner = client();
      const scanId = await launched(scanner);
      const refused = await rejection(scanner.deleteScan(scanId));
      expect(refused).toMatchObject({ code: 'scanner_error', details: expect.objectContaining({ status: 500 }) });
      await waitForStatusWord(scanner, scanId, 'running');
      await target.pauseScan?.(scanId);
      await waitForStatusWord(scanner, scanId, 'paused');
      await expect(scanner.stopScan(scanId)).resolves.toBeUndefined();
      expect((await scanner.getStatus(scanId)).rawStatus).toBe('paused');
    });

    for (const mode of ['error', 'error_500_then_404', 'lost'] as const) {
      it(`export_mode ${mode}: asks for a new export three times, then fails for good with a clear message`, async () => {
        const scanner = client();
        const scanId = await completedScan(scanner);
        await target.setRealFaults({ export_mode: mode });
        const files: string[] = [];
        const error = await rejection(scanner.exportReport(scanId, join(dir, `${mode}.nessus`), { onExportFile: (file) => void files.push(file) }));
        expect(error).toMatchObject({ code: 'scanner_error', retryable: false, details: expect.objectContaining({ export_requests: 3 }) });
        expect(error.message).toMatch(/could not produce an export of scan/);
        expect(new Set(files).size).toBe(3);
      });
    }

    it('resumes a recorded export file instead of requesting another', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      const first: string[] = [];
      await scanner.exportReport(scanId, join(dir, 'first.nessus'), { onExportFile: (file) => void first.push(file) });
      const again: string[] = [];
      const { bytes } = await scanner.exportReport(scanId, join(dir, 'resumed.nessus'), {
        resumeFile: first[0]!,
        onExportFile: (file) => void again.push(file),
      });
      expect(bytes).toBeGreaterThan(0);
      expect(again).toEqual([]);
    });

    it('download_mode chunked: a download without Content-Length completes, and the size cap still holds', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      await target.setRealFaults({ download_mode: 'chunked' });
      const totals: Array<number | undefined> = [];
      const { bytes } = await scanner.exportReport(scanId, join(dir, 'chunked.nessus'), { onProgress: (p) => p.phase === 'done' && totals.push(p.totalBytes) });
      expect((await stat(join(dir, 'chunked.nessus'))).size).toBe(bytes);
      expect(totals).toEqual([undefined]);
      const capped = await rejection(scanner.exportReport(scanId, join(dir, 'capped.nessus'), { maxBytes: 1024 }));
      expect(capped.code).toBe('payload_too_large');
      expect((await readdir(dir)).filter((f) => f.includes('capped'))).toEqual([]);
    });

    it('download_mode truncated: the download is started over a bounded number of times, then fails as retryable', async () => {
      const scanner = client();
      const scanId = await completedScan(scanner);
      await target.setRealFaults({ download_mode: 'truncated' });
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'truncated.nessus')));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true });
      expect((await readdir(dir)).filter((f) => f.includes('truncated'))).toEqual([]);
    });

    it('server_loading: the health check reports starting with the progress, not unreachable', async () => {
      await target.setRealFaults({ server_loading: 40 });
      expect(await client().checkHealth()).toMatchObject({ healthy: false, status: 'starting', serverStatus: 'loading', serverProgress: 40 });
      await target.setRealFaults({ server_loading: null });
      expect(await client().checkHealth()).toMatchObject({ healthy: true, status: 'ok', serverProgress: null });
    });

    for (const [word, state] of [
      ['publishing', 'running'],
      ['initializing', 'queued'],
      ['stopped', 'cancelled'],
      ['imported', 'completed'],
      ['pausing', 'running'],
      ['paused', 'running'],
      ['resuming', 'running'],
      ['empty', 'queued'],
    ] as const) {
      it(`running_status ${word}: reported as ${state}`, async () => {
        const scanner = client();
        const scanId = await launched(scanner);
        await target.setRealFaults({ running_status: word });
        const status = await waitForStatusWord(scanner, scanId, word);
        expect(status.state).toBe(state);
      });
    }

    it('session_refusal too_many_users: the login is retried with backoff and goes through once a seat frees', async () => {
      await target.setRealFaults({ session_refusal: 'too_many_users' });
      const scanner = client('session', { http_retries: 6, http_retry_backoff_ms: 40 });
      const pending = scanner.listOwnScans();
      await sleep(60);
      await target.setRealFaults({ session_refusal: null });
      await expect(pending).resolves.toEqual(expect.any(Array));
    });

    it('session_refusal too_many_users for good: a retryable scanner error after the retry budget', async () => {
      await target.setRealFaults({ session_refusal: 'too_many_users' });
      const error = await rejection(client('session').listOwnScans());
      expect(error).toMatchObject({
        code: 'scanner_error',
        retryable: true,
        details: expect.objectContaining({ status: 500, nessus_error: 'Too many users are connected' }),
      });
    });

    it('session_refusal locked: a non-retryable error that says the account is locked', async () => {
      await target.setRealFaults({ session_refusal: 'locked' });
      const error = await rejection(client('session').listOwnScans());
      expect(error).toMatchObject({ code: 'scanner_unavailable', retryable: false });
      expect(error.message).toMatch(/has locked the account 'admin'.*administrator must unlock it/);
    });

    it('error_rate 0.3: reads are retried in place and succeed', async () => {
      const scanner = client('keys', { http_retries: 8 });
      const scanId = await launched(scanner);
      await target.setRealFaults({ error_rate: 0.3 });
      for (let i = 0; i < 10; i += 1) await expect(scanner.getStatus(scanId)).resolves.toMatchObject({ rawStatus: expect.any(String) });
    });
  });
}

async function waitForStatusWord(scanner: NessusScanner, scanId: string, word: string): Promise<ScanStatus> {
  for (let i = 0; i < 200; i += 1) {
    const status = await scanner.getStatus(scanId);
    if (status.rawStatus === word) return status;
    await sleep(20);
  }
  throw new Error(`scan ${scanId} never reported '${word}'`);
}
