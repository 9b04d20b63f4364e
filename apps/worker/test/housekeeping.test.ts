import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Queue } from 'bullmq';
import { createHousekeepingQueue, type HousekeepingJobData, type HousekeepingJobName } from '@nessus-mcp/core';
import { SCAN_TEMPLATES, type RunningSimulator } from '@nessus-mcp/nessus-sim';
import { LocalTaskFiles, postingsOf } from '@nessus-mcp/results';
import type { HousekeepingDeps } from '../src/housekeeping/housekeeping-deps.js';
import { rebuildFindingIndex } from '../src/housekeeping/rebuild-index.js';
import { NessusScanner, type ScannerInstanceConfig } from '@nessus-mcp/scanners';
import { redisUrlForDb, simCounts, useWorkerSystem, waitFor, waitForStatus, type GatewayStandIn, type WorkerSystem } from './worker-harness.js';

const REDIS_URL = redisUrlForDb(6);
const DAY = 24 * 60 * 60 * 1000;

describe('housekeeping', () => {
  let sim: RunningSimulator;
  let dir: string;
  let gateway: GatewayStandIn;
  let housekeeping: Queue<HousekeepingJobData>;

  /** Runs one housekeeping job through the real queue and worker, returning its result. */
  const run = async (name: HousekeepingJobName): Promise<Record<string, number>> => {
    const job = await housekeeping.add(name, {});
    return waitFor(
      async () => {
        const current = await housekeeping.getJob(job.id!);
        return current && (await current.getState()) === 'completed' ? (current.returnvalue as Record<string, number>) : null;
      },
      { what: `housekeeping ${name}` },
    );
  };

  const simScans = async (): Promise<Array<{ id: number; name: string; status: string }>> => {
    const response = await fetch(`${sim.url}/scans`, { headers: { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=sim-secret-key' } });
    const body = (await response.json()) as { scans: Array<{ id: number; name: string; status: string }> | null };
    return body.scans ?? [];
  };

  // Declared first, so it runs before the system stops (after-all hooks run in declaration order).
  afterAll(async () => {
    await housekeeping.close();
  });
  let system: WorkerSystem;
  useWorkerSystem({ redisUrl: REDIS_URL, label: 'housekeeping', faults: { scan_seconds: 1 } }, (started) => {
    system = started;
    ({ sim, dir, gateway } = started);
    housekeeping = createHousekeepingQueue(gateway.redis, { logger: { warn: () => undefined } });
  });

  it('registers every housekeeping schedule', async () => {
    const schedulers = await housekeeping.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(['clean-nessus', 'expire-tasks', 'reconcile-queued', 'stop-stuck-scans']);
    // From here on each job runs only when a test runs it: a scheduled reconcile-queued (every
    // minute) landing inside a test would pick up that test's deliberately orphaned queued tasks.
    for (const scheduler of schedulers) await housekeeping.removeJobScheduler(scheduler.key);
    await housekeeping.drain(true);
    expect(await housekeeping.getJobSchedulers()).toEqual([]);
  });

  it('expires finished tasks past their retention with their files and jobs, and keeps the rest', async () => {
    const old = new Date(Date.now() - 40 * DAY);
    const expiredCompleted = await gateway.submit({ createdAt: old });
    const keptFailed = await gateway.submit({ createdAt: old, enqueue: false });
    const expiredFailed = await gateway.submit({ createdAt: old, enqueue: false });
    const stillQueued = await gateway.submit({ createdAt: old, enqueue: false });
    await waitForStatus(gateway, expiredCompleted.task_id, ['completed']);
    const ended = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString();
    await gateway.tasks.update(expiredCompleted.task_id, { completed_at: ended(8) });
    await gateway.tasks.update(keptFailed.task_id, { status: 'failed', completed_at: ended(8) });
    await gateway.tasks.update(expiredFailed.task_id, { status: 'cancelled', completed_at: ended(31) });
    for (const task of [keptFailed, expiredFailed]) {
      mkdirSync(join(dir, 'tasks', task.task_id), { recursive: true });
      writeFileSync(join(dir, 'tasks', task.task_id, 'report.nessus'), '<x/>');
    }
    expect(existsSync(join(dir, 'tasks', expiredCompleted.task_id, 'report.nessus'))).toBe(true);

    const result = await run('expire-tasks');

    expect(result.expired).toBe(2);
    expect(await gateway.tasks.get(expiredCompleted.task_id)).toBeNull();
    expect(await gateway.tasks.get(expiredFailed.task_id)).toBeNull();
    expect(existsSync(join(dir, 'tasks', expiredCompleted.task_id))).toBe(false);
    expect(existsSync(join(dir, 'tasks', expiredFailed.task_id))).toBe(false);
    expect(await gateway.queue.getJob(expiredCompleted.task_id)).toBeUndefined();
    expect((await gateway.tasks.get(keptFailed.task_id))?.status).toBe('failed');
    expect(existsSync(join(dir, 'tasks', keptFailed.task_id, 'report.nessus'))).toBe(true);
    expect((await gateway.tasks.get(stillQueued.task_id))?.status).toBe('queued');
    await gateway.tasks.update(stillQueued.task_id, { status: 'cancelled', completed_at: new Date().toISOString() });

    // The completed scan's history outlives its full results: fingerprint kept, still indexed.
    const files = new LocalTaskFiles(dir);
    expect((await files.findFingerprint(expiredCompleted.task_id))?.kept).toBe('history');
    expect((await gateway.tasks.index.record(expiredCompleted.task_id))?.store_expired_at).toEqual(expect.any(String));
    const hosts = await gateway.tasks.index.hostNames();
    expect(hosts.length).toBeGreaterThan(0);
    expect((await gateway.tasks.index.tasksFor('host', hosts[0] ?? '')).map((t) => t.task_id)).toContain(expiredCompleted.task_id);

    // Past retention.history_days it leaves the index and its fingerprint is deleted.
    await gateway.redis.zadd(gateway.tasks.keys.historyByCompleted, Date.now() - 401 * DAY, expiredCompleted.task_id);
    expect((await run('expire-tasks')).history_expired).toBe(1);
    expect(await files.findFingerprint(expiredCompleted.task_id)).toBeNull();
    expect(await gateway.tasks.index.record(expiredCompleted.task_id)).toBeNull();
    expect((await gateway.tasks.index.tasksFor('host', hosts[0] ?? '')).map((t) => t.task_id)).not.toContain(expiredCompleted.task_id);
  });

  it('re-queues a queued task whose job was never added, and it completes', async () => {
    const orphan = await gateway.submit({ enqueue: false, createdAt: new Date(Date.now() - 60_000) });
    const result = await run('reconcile-queued');
    expect(result.requeued).toBe(1);
    expect((await waitForStatus(gateway, orphan.task_id, ['completed', 'failed'])).status).toBe('completed');

    // Completion indexed it; an index that lost it is rebuilt from the fingerprint with the store.
    expect(await gateway.tasks.index.isIndexed(orphan.task_id)).toBe(true);
    const files = new LocalTaskFiles(dir);
    const fingerprints = await (await files.findFingerprint(orphan.task_id))?.load();
    if (!fingerprints) throw new Error('no fingerprint with the store');
    await gateway.tasks.index.remove(orphan.task_id, postingsOf(fingerprints));
    const deps = { tasks: gateway.tasks, files, logger: { info: () => undefined } } as unknown as HousekeepingDeps;
    expect((await rebuildFindingIndex(deps)).reindexed).toBe(1);
    expect((await gateway.tasks.index.tasksFor('plugin', String(fingerprints.pluginId(0)))).map((t) => t.task_id)).toContain(orphan.task_id);
    expect((await rebuildFindingIndex(deps)).reindexed).toBe(0);
  });

  it('stops a scan still running past the time limit and marks it timeout', async () => {
    const instance: ScannerInstanceConfig = {
      instance_id: 'sim1',
      name: 'sim',
      url: sim.url,
      access_key: 'sim-access-key',
      secret_key: 'sim-secret-key',
      max_concurrent_scans: 4,
      enabled: true,
      tls_verify: true,
      timeout_ms: 5000,
    };
    const scanner = new NessusScanner({ poolName: 'main', instance, folder: 'nessus-mcp' });
    sim.setFaults({ scan_seconds: 600 });
    // A task whose job is gone: nothing but housekeeping will ever look at it again.
    const stuck = await gateway.submit({ enqueue: false });
    const { scanId } = await scanner.createScan({ taskId: stuck.task_id, name: stuck.name, targets: ['10.0.0.9'], scanType: 'untrusted' });
    await scanner.launchScan(scanId);
    await scanner.close();
    sim.setFaults({ scan_seconds: 1 });
    await gateway.tasks.update(stuck.task_id, {
      status: 'running',
      started_at: new Date(Date.now() - 2 * 60 * 60_000).toISOString(),
      nessus_scan_id: scanId,
      scanner_instance: 'sim1',
    });

    const result = await run('stop-stuck-scans');

    expect(result.timed_out).toBe(1);
    const task = await gateway.status(stuck.task_id);
    expect(task.status).toBe('timeout');
    expect(task.error?.message).toMatch(/60 minutes/);
    expect(simCounts(sim, stuck.task_id).stopped).toBe(1);
  });

  it('deletes on Nessus only its own scans of finished tasks, never foreign ones', async () => {
    const template = SCAN_TEMPLATES.find((t) => t.name === 'advanced') ?? SCAN_TEMPLATES[0]!;
    const foreign = await fetch(`${sim.url}/scans`, {
      method: 'POST',
      headers: { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=sim-secret-key', 'content-type': 'application/json' },
      body: JSON.stringify({ uuid: template.uuid, settings: { name: 'Quarterly audit (not ours)', text_targets: '10.9.9.9' } }),
    });
    expect(foreign.status).toBe(200);
    const live = await gateway.submit();
    await waitFor(async () => (await gateway.tasks.get(live.task_id))?.nessus_scan_id, { what: 'live task scan created' });
    sim.setFaults({ scan_seconds: 600 });
    // The scan stopped by the previous test must have left `stopping` (Nessus refuses to delete it before).
    await waitFor(async () => (await simScans()).every((scan) => scan.status !== 'stopping'), { what: 'no scan stopping' });
    const before = await simScans();
    const ownFinished = before.filter((scan) => scan.name.startsWith('[nmcp:') && !scan.name.includes(live.task_id));
    expect(ownFinished.length).toBeGreaterThan(0);

    const result = await run('clean-nessus');

    const after = await simScans();
    const names = after.map((scan) => scan.name);
    expect(names).toContain('Quarterly audit (not ours)');
    expect(names.some((name) => name.includes(live.task_id))).toBe(true);
    // By scan id, with the statuses in the message should one stay: what Nessus had, and what is left.
    const left = after.filter((scan) => ownFinished.some((own) => own.id === scan.id));
    expect({ left, before: ownFinished, result }).toEqual({
      left: [],
      before: ownFinished,
      result: expect.objectContaining({ deleted: ownFinished.length, errors: 0 }),
    });
    await gateway.cancel(live.task_id);
    await waitForStatus(gateway, live.task_id, ['cancelled']);
    sim.setFaults({ scan_seconds: 1 });
  });

  it("reports a finished task's scan that a person paused in Nessus instead of stopping or deleting it every run", async () => {
    const keys = { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=sim-secret-key' };
    const instance: ScannerInstanceConfig = {
      instance_id: 'sim1',
      name: 'sim',
      url: sim.url,
      access_key: 'sim-access-key',
      secret_key: 'sim-secret-key',
      max_concurrent_scans: 4,
      enabled: true,
      tls_verify: true,
      timeout_ms: 5000,
    };
    const scanner = new NessusScanner({ poolName: 'main', instance, folder: 'nessus-mcp' });
    sim.setFaults({ scan_seconds: 600 });
    const ended = await gateway.submit({ enqueue: false });
    const { scanId } = await scanner.createScan({ taskId: ended.task_id, name: ended.name, targets: ['10.0.0.12'], scanType: 'untrusted' });
    await scanner.launchScan(scanId);
    await waitFor(async () => (await scanner.getStatus(scanId)).rawStatus === 'running', { what: 'the scan to run' });
    expect((await fetch(`${sim.url}/scans/${scanId}/pause`, { method: 'POST', headers: keys })).status).toBe(200);
    await waitFor(async () => (await scanner.getStatus(scanId)).rawStatus === 'paused', { what: 'the scan to pause' });
    await gateway.tasks.update(ended.task_id, { status: 'cancelled', completed_at: new Date().toISOString(), nessus_scan_id: scanId });
    const stopsBefore = sim.stats().stops;

    const first = await run('clean-nessus');
    const second = await run('clean-nessus');

    expect(first).toMatchObject({ held: 1, errors: 0 });
    expect(second).toMatchObject({ held: 1, errors: 0 });
    expect(sim.stats().stops).toBe(stopsBefore);
    expect((await scanner.getStatus(scanId)).rawStatus).toBe('paused');
    expect(system.workers[0]!.logs.text()).toContain('is paused in Nessus, which refuses to stop or delete it');
    await fetch(`${sim.url}/scans/${scanId}/kill`, { method: 'POST', headers: keys });
    await scanner.close();
    sim.setFaults({ scan_seconds: 1 });
  });
});
