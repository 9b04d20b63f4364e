import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { BULL_PREFIX, scanQueueName, type ScanJobData } from '@nessus-mcp/core';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { LICENCE_MESSAGE } from '@nessus-mcp/scanners';
import {
  ESCALATION_PASSWORD,
  SSH_PASSWORD,
  dumpRedis,
  redisUrlForDb,
  simCounts,
  useWorkerSystem,
  waitFor,
  waitForJob,
  waitForStatus,
  writeScannersConfig,
  type GatewayStandIn,
  type InProcessWorker,
} from './worker-harness.js';

const REDIS_URL = redisUrlForDb(1);
// Not one of the harness's secrets: the suite's clear-text check must not find this test's rogue job.
const ROGUE_PASSWORD = 'rogue-clear-text-value';

describe('scan pipeline against the simulator', () => {
  let sim: RunningSimulator;
  let dir: string;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;

  useWorkerSystem({ redisUrl: REDIS_URL, label: 'pipeline', config: { attempts: 6, capacity: 8 } }, (system) => {
    ({ sim, dir, gateway } = system);
    worker = system.workers[0]!;
  });

  beforeEach(() => {
    sim.setFaults({ error_rate: 0, licence_412: null, export_mode: 'ok', scan_outcome: 'completed', latency_ms: 0, scan_seconds: 1 });
  });

  it('fails a job whose payload breaks the queue schema at once and for good, with the field named, and never scans', async () => {
    const task = await gateway.submit({ enqueue: false });
    const stored = (await gateway.tasks.getJobPayload<ScanJobData>(task.task_id))!;
    // A producer that bypasses the registry (an older gateway, a hand-edited job) puts clear-text credentials in.
    const rogue = new Queue(scanQueueName('main'), { connection: gateway.redis, prefix: BULL_PREFIX });
    try {
      await rogue.add('scan', { ...stored, credentials: { ssh_username: 'scan', ssh_password: ROGUE_PASSWORD } }, { jobId: task.task_id, attempts: 5 });
    } finally {
      await rogue.close();
    }
    const job = await waitForJob(gateway, task.task_id, 'failed');
    expect(job.failedReason).toMatch(/payload that does not match its schema/);
    expect(job.failedReason).toMatch(/credentials/);
    expect(job.failedReason).not.toContain(ROGUE_PASSWORD);
    expect(job.attemptsMade).toBe(1);
    expect(simCounts(sim, task.task_id)).toEqual({ created: 0, launched: 0, stopped: 0 });
  });

  it('refuses to add a job whose payload breaks the queue schema, before it reaches Redis', async () => {
    const task = await gateway.submit({ enqueue: false });
    const stored = (await gateway.tasks.getJobPayload<ScanJobData>(task.task_id))!;
    await expect(gateway.queue.add('scan', { ...stored, targets: [] }, { jobId: task.task_id })).rejects.toThrow(/targets/);
    expect(await gateway.queue.getJob(task.task_id)).toBeUndefined();
  });

  it('runs a credentialed scan to completed with its summary, report and exactly one create and launch', async () => {
    const task = await gateway.submit({ credentials: { ssh_username: 'scan', ssh_password: SSH_PASSWORD }, targets: ['10.0.0.5', '10.0.0.6', '10.0.0.7'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.started_at).not.toBeNull();
    expect(done.completed_at).not.toBeNull();
    expect(done.nessus_scan_id).toEqual(expect.any(String));
    expect(done.progress).toBe(100);
    expect(done.results_summary).toMatchObject({ hosts_scanned: 3, authentication_status: 'success' });
    expect(existsSync(join(dir, 'tasks', task.task_id, 'report.nessus'))).toBe(true);
    expect(simCounts(sim, task.task_id)).toEqual({ created: 1, launched: 1, stopped: 0 });
    const job = await waitForJob(gateway, task.task_id, 'completed');
    expect(job.returnvalue).toMatchObject({ task_id: task.task_id, status: 'completed', summary: { hosts_scanned: 3 } });
    expect(await gateway.tasks.recentDurations('main')).not.toHaveLength(0);
  });

  it('ends a credentialed scan whose SSH login failed everywhere as failed (authentication_failed), its results kept', async () => {
    const task = await gateway.submit({ credentials: { ssh_username: 'scan', ssh_password: 'not-the-password' }, targets: ['10.0.0.8'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'authentication_failed', message: expect.stringMatching(/SSH login failed on the host/) });
    expect(done.results_summary).toMatchObject({ hosts_scanned: 1, authentication_status: 'failed' });
    // The record keeps what get_scan_status reports (hints included), summary.json the evidence.
    expect(Object.keys(done.results_summary ?? {}).sort()).toEqual([
      'authentication_hints',
      'authentication_status',
      'file_size_kb',
      'findings_total',
      'hosts_scanned',
      'severity_breakdown',
      'total_vulnerabilities',
    ]);
    expect(done.results_summary?.authentication_hints).not.toHaveLength(0);
    expect(existsSync(join(dir, 'tasks', task.task_id, 'results', 'manifest.json'))).toBe(true);
    // Not a BullMQ failure: retrying with the same credentials cannot help.
    expect((await waitForJob(gateway, task.task_id, 'completed')).returnvalue).toMatchObject({ status: 'failed' });
  });

  it('fails clearly, without retrying, when the export is larger than limits.max_export_mb', async () => {
    writeScannersConfig(dir, sim.url, { attempts: 6, capacity: 8, maxExportMb: 1 });
    worker.app.reload();
    try {
      // Five hosts use every bundled host template, the largest about 1.4 MB.
      const task = await gateway.submit({ targets: ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5'] });
      const done = await waitForStatus(gateway, task.task_id, ['failed', 'completed']);
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/limits\.max_export_mb \(1 MB\)/) });
      expect(existsSync(join(dir, 'tasks', task.task_id, 'report.nessus'))).toBe(false);
    } finally {
      writeScannersConfig(dir, sim.url, { attempts: 6, capacity: 8 });
      worker.app.reload();
    }
  });

  it('retries through bursts of 5xx answers and completes', async () => {
    sim.setFaults({ scan_seconds: 2 });
    const tasks = await Promise.all([gateway.submit(), gateway.submit(), gateway.submit()]);
    for (const task of tasks) await waitFor(async () => (await gateway.tasks.get(task.task_id))?.raw_scanner_status === 'running', { what: 'scans running' });
    sim.setFaults({ error_rate: 1 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    sim.setFaults({ error_rate: 0 });
    for (const task of tasks) {
      const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed'], 45_000);
      expect(done.error).toBeNull();
      expect(done.status).toBe('completed');
      expect(simCounts(sim, task.task_id).launched).toBe(1);
    }
    expect(worker.logs.lines.some((line) => line.includes('scan step failed') && /HTTP 50\d/.test(line))).toBe(true);
  });

  it('fails at once with the licence message when Nessus answers 412', async () => {
    sim.setFaults({ licence_412: 'clean' });
    const task = await gateway.submit();
    const done = await waitForStatus(gateway, task.task_id, ['failed', 'completed']);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'scanner_unavailable', message: LICENCE_MESSAGE });
    const job = await waitForJob(gateway, task.task_id, 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.data.state).toMatchObject({ failed_tries: 1 });
  });

  it('requests a failing export anew a bounded number of times, then fails with a clear reason, and a retry from the failed set completes it', async () => {
    sim.setFaults({ export_mode: 'error' });
    const task = await gateway.submit();
    const failed = await waitForStatus(gateway, task.task_id, ['failed', 'completed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'scanner_error', message: expect.stringMatching(/could not produce an export .*3 export requests failed/) });
    const job = await waitForJob(gateway, task.task_id, 'failed');
    // The scanner asked for three exports within one try of the step; repeating the step would
    // only ask for three more. The last export's file id is recorded for a resumed step.
    expect(job.data.state).toMatchObject({ step: 'export', failed_tries: 1, export_file: expect.stringMatching(/^\d+$/) });

    sim.setFaults({ export_mode: 'ok' });
    await job.retry('failed');
    const done = await waitForStatus(gateway, task.task_id, ['completed'], 30_000);
    expect(done.error).toBeNull();
    expect(done.results_summary).toMatchObject({ hosts_scanned: 2 });
    // Resumed from the recorded state: the same Nessus scan, never a second one.
    expect(simCounts(sim, task.task_id)).toMatchObject({ created: 1, launched: 1 });
  });

  it("fails with the scanner's reason when Nessus aborts the scan, and a retry from the failed set relaunches that same scan", async () => {
    sim.setFaults({ scan_outcome: 'aborted' });
    const task = await gateway.submit();
    const done = await waitForStatus(gateway, task.task_id, ['failed', 'completed']);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toMatch(/status 'aborted'/);

    sim.setFaults({ scan_outcome: 'completed' });
    const job = await waitForJob(gateway, task.task_id, 'failed');
    await job.retry('failed');
    const again = await waitForStatus(gateway, task.task_id, ['completed'], 30_000);
    expect(again.results_summary).toMatchObject({ hosts_scanned: 2 });
    // A new run of the same Nessus scan, not a second scan.
    expect(simCounts(sim, task.task_id)).toMatchObject({ created: 1, launched: 2 });
  });

  it('stops the Nessus scan and ends timeout once the wall-clock limit from the start has passed', async () => {
    sim.setFaults({ scan_seconds: 120 });
    const task = await gateway.submit();
    await waitFor(async () => (await gateway.tasks.get(task.task_id))?.raw_scanner_status === 'running', { what: 'scan running' });
    // Started 61 minutes ago against a 60-minute limit: the next poll must end it.
    await gateway.tasks.update(task.task_id, { started_at: new Date(Date.now() - 61 * 60_000).toISOString() });
    const done = await waitForStatus(gateway, task.task_id, ['timeout', 'failed', 'completed']);
    expect(done.status).toBe('timeout');
    expect(done.error?.message).toMatch(/60-minute limit/);
    expect(simCounts(sim, task.task_id).stopped).toBe(1);
  });

  it('never lets the SSH or escalation passwords reach Redis, job data or logs in clear text', async () => {
    const task = await gateway.submit({
      scanType: 'privileged',
      credentials: { ssh_username: 'scan', ssh_password: SSH_PASSWORD, elevate_privileges_with: 'sudo', escalation_password: ESCALATION_PASSWORD },
    });
    await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    const job = await waitForJob(gateway, task.task_id, 'completed', 'failed');
    const everything = [
      await dumpRedis(REDIS_URL),
      JSON.stringify(job.data),
      JSON.stringify(job.returnvalue),
      JSON.stringify(job.progress),
      worker.logs.text(),
    ].join('\n');
    expect(everything).toContain(task.task_id);
    expect(everything).not.toContain(SSH_PASSWORD);
    expect(everything).not.toContain(ESCALATION_PASSWORD);
  });
});
