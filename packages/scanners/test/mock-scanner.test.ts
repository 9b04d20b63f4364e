import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import { MockScanner } from '../src/mock-scanner.js';
import type { Scanner } from '../src/scanner.js';

describe('MockScanner', () => {
  let dir: string;
  let now = 0;
  const clock = (): number => now;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nmcp-mock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks a scan through queued, running with rising progress, and completed on its clock', async () => {
    now = 1_000;
    const scanner: Scanner = new MockScanner({ now: clock, outcome: { durationMs: 1_000, pendingShare: 0.2 } });
    const { scanId } = await scanner.createScan({
      taskId: 'ne_scan_20251201_143022_a1b2c3d4',
      name: 'mock',
      targets: ['10.0.0.1', '10.0.0.2'],
      scanType: 'untrusted',
    });
    expect(await scanner.getStatus(scanId)).toMatchObject({ state: 'queued', rawStatus: 'empty', progress: 0 });
    await scanner.launchScan(scanId);
    now += 100;
    expect(await scanner.getStatus(scanId)).toMatchObject({ state: 'queued', rawStatus: 'pending' });
    now += 500;
    expect(await scanner.getStatus(scanId)).toMatchObject({ state: 'running', rawStatus: 'running', progress: 50, hostsTotal: 2 });
    now += 400;
    expect(await scanner.getStatus(scanId)).toMatchObject({ state: 'completed', rawStatus: 'completed', progress: 100 });
    expect(await scanner.listOwnScans()).toEqual([
      expect.objectContaining({
        scanId,
        taskId: 'ne_scan_20251201_143022_a1b2c3d4',
        name: '[nmcp:ne_scan_20251201_143022_a1b2c3d4] mock',
        rawStatus: 'completed',
      }),
    ]);
  });

  it('ends scans aborted (failed) when told to, and cancelled when stopped', async () => {
    now = 0;
    const mock = new MockScanner({ now: clock, outcome: { durationMs: 100, finalState: 'failed' } });
    const a = await mock.createScan({ taskId: 't-a', name: 'a', targets: ['10.0.0.1'], scanType: 'untrusted' });
    const b = await mock.createScan({ taskId: 't-b', name: 'b', targets: ['10.0.0.1'], scanType: 'untrusted' });
    await mock.launchScan(a.scanId);
    await mock.launchScan(b.scanId);
    await mock.stopScan(b.scanId);
    await mock.stopScan(b.scanId);
    now = 200;
    expect(await mock.getStatus(a.scanId)).toMatchObject({ state: 'failed', rawStatus: 'aborted' });
    expect(await mock.getStatus(b.scanId)).toMatchObject({ state: 'cancelled', rawStatus: 'canceled' });
  });

  it('throws planned failures the given number of times, then behaves again', async () => {
    const mock = new MockScanner();
    const outage = new AppError('scanner_error', 'Nessus is down', { retryable: true });
    mock.failNext('createScan', outage, 2);
    const request = { taskId: 't-f', name: 'f', targets: ['10.0.0.1'], scanType: 'untrusted' as const };
    await expect(mock.createScan(request)).rejects.toBe(outage);
    await expect(mock.createScan(request)).rejects.toBe(outage);
    await expect(mock.createScan(request)).resolves.toEqual({ scanId: expect.any(String) });
    expect(mock.calls.map((c) => c.operation)).toEqual(['createScan', 'createScan', 'createScan']);
  });

  it('exports a generated report with one host per target, reflecting whether credentials were used', async () => {
    const mock = new MockScanner();
    const { scanId } = await mock.createScan({
      taskId: 't-r',
      name: 'r & d',
      targets: ['10.0.0.1', 'db<1>'],
      scanType: 'trusted',
      credentials: { ssh_username: 'scan', ssh_password: 'pw' },
    });
    await mock.launchScan(scanId);
    mock.finish(scanId);
    const dest = join(dir, 'generated.nessus');
    const { bytes } = await mock.exportReport(scanId, dest);
    const text = await readFile(dest, 'utf8');
    expect(Buffer.byteLength(text)).toBe(bytes);
    expect(text.match(/<ReportHost /g)).toHaveLength(2);
    expect(text).toContain('name="db&lt;1&gt;"');
    expect(text).toContain('Credentialed checks : yes');
  });

  it('exports the given fixture file byte for byte', async () => {
    const fixture = join(dir, 'fixture.nessus');
    await writeFile(fixture, '<?xml version="1.0" ?>\n<NessusClientData_v2>fixture</NessusClientData_v2>\n');
    const mock = new MockScanner({ exportFixture: fixture });
    const { scanId } = await mock.createScan({ taskId: 't-x', name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
    await mock.launchScan(scanId);
    mock.finish(scanId);
    await mock.exportReport(scanId, join(dir, 'copied.nessus'));
    expect(await readFile(join(dir, 'copied.nessus'), 'utf8')).toBe(await readFile(fixture, 'utf8'));
    expect((await readdir(dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('refuses to export or delete a running scan, and deletes a finished one idempotently', async () => {
    now = 0;
    const mock = new MockScanner({ now: clock, outcome: { durationMs: 1_000 } });
    const { scanId } = await mock.createScan({ taskId: 't-d', name: 'd', targets: ['10.0.0.1'], scanType: 'untrusted' });
    await mock.launchScan(scanId);
    now = 500;
    await expect(mock.exportReport(scanId, join(dir, 'no.nessus'))).rejects.toMatchObject({ code: 'conflict' });
    await expect(mock.deleteScan(scanId)).rejects.toMatchObject({ code: 'conflict' });
    now = 2_000;
    await mock.deleteScan(scanId);
    await mock.deleteScan(scanId);
    await expect(mock.getStatus(scanId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('validates credentials like the real client and honours an aborted signal', async () => {
    const mock = new MockScanner();
    await expect(
      mock.createScan({ taskId: 't-v', name: 'v', targets: ['10.0.0.1'], scanType: 'privileged', credentials: { ssh_username: 'u', ssh_password: 'p' } }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    const controller = new AbortController();
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(mock.listOwnScans(controller.signal)).rejects.toBe(reason);
  });

  it('reports the health it was given', async () => {
    const mock = new MockScanner({ poolName: 'p', instanceId: 'i' });
    expect(await mock.checkHealth()).toMatchObject({ poolName: 'p', instanceId: 'i', kind: 'mock', healthy: true, status: 'ok' });
    mock.setHealth({ healthy: false, status: 'unreachable', message: 'down' });
    expect(await mock.checkHealth()).toMatchObject({ healthy: false, status: 'unreachable', serverStatus: null, message: 'down' });
  });
});
