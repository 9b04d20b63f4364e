/**
 * The behaviours of real Nessus servers that the simulator plays as fault modes, each run through
 * the worker's whole pipeline: every test asserts the task's final status and error code.
 */
import { describe, expect, it } from '@jest/globals';
import type { ResultFigures, ScanJobData, Task } from '@nessus-mcp/core';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { NessusScanner, type ScannerInstanceConfig } from '@nessus-mcp/scanners';
import { redisUrlForDb, simCounts, useWorkerSystem, waitFor, waitForStatus, type GatewayStandIn, type InProcessWorker } from './worker-harness.js';

const SETTLED: Task['status'][] = ['completed', 'failed', 'timeout', 'cancelled'];

/** What must come out the same with and without faults: the findings, not the file's timestamps. */
function findings(summary: ResultFigures | null): unknown {
  return (
    summary && { hosts_scanned: summary.hosts_scanned, total_vulnerabilities: summary.total_vulnerabilities, severity_breakdown: summary.severity_breakdown }
  );
}

function directClient(sim: RunningSimulator): NessusScanner {
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
  return new NessusScanner({ poolName: 'main', instance, folder: 'nessus-mcp' });
}

describe('real-Nessus fault modes through the pipeline (API keys)', () => {
  let sim: RunningSimulator;
  let gateway: GatewayStandIn;
  let worker: InProcessWorker;

  // A generous step budget: under error_rate 0.3 a non-idempotent call (create, launch) fails
  // about a third of the time, and each failed try costs only backoff_ms × 2^n.
  useWorkerSystem({ redisUrl: redisUrlForDb(8), label: 'real-nessus', config: { attempts: 10, backoffMs: 100, capacity: 10 } }, (system) => {
    ({ sim, gateway } = system);
    worker = system.workers[0]!;
  });

  const run = async (options: Parameters<GatewayStandIn['submit']>[0] = {}, timeoutMs = 30_000): Promise<Task> => {
    const task = await gateway.submit(options);
    return waitForStatus(gateway, task.task_id, SETTLED, timeoutMs);
  };

  it('licence refused by a closed socket (Nessus 10.8): failed at once with scanner_unavailable, nothing created', async () => {
    sim.setFaults({ licence_412: 'reset' });
    try {
      const done = await run();
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'scanner_unavailable', message: expect.stringContaining('does not allow scan control over the API') });
      expect(simCounts(sim, done.task_id)).toMatchObject({ created: 0, launched: 0 });
    } finally {
      sim.setFaults({ licence_412: null });
    }
  });

  it('a launch answered 500 "already running" is checked against the scan status and the task completes on that one run', async () => {
    const task = await gateway.submit({ enqueue: false, targets: ['10.0.0.21'] });
    // An earlier run launched the scan and died before recording it (no launch_requested_at).
    const scanner = directClient(sim);
    const { scanId } = await scanner.createScan({ taskId: task.task_id, name: task.name, targets: task.targets, scanType: 'untrusted' });
    await scanner.launchScan(scanId);
    await scanner.close();
    const payload: ScanJobData = {
      task_id: task.task_id,
      trace_id: task.trace_id,
      pool: 'main',
      instance_pinned: null,
      scan_type: 'untrusted',
      name: task.name,
      description: null,
      targets: task.targets,
      credentials: null,
    };
    await gateway.queue.add('scan', { ...payload, state: { step: 'launch', nessus_scan_id: scanId, instance_id: 'sim1' } }, { jobId: task.task_id });
    const done = await waitForStatus(gateway, task.task_id, SETTLED);
    expect(done.status).toBe('completed');
    expect(done.error).toBeNull();
    expect(simCounts(sim, task.task_id)).toMatchObject({ created: 1, launched: 1 });
    expect(worker.logs.text()).toContain('the launch answered an error but nessus reports the scan launched');
  });

  for (const mode of ['error_500_then_404', 'lost'] as const) {
    it(`export_mode ${mode}: new exports up to the bound, then failed with scanner_error and a clear message`, async () => {
      sim.setFaults({ export_mode: mode });
      try {
        const done = await run();
        expect(done.status).toBe('failed');
        expect(done.error).toMatchObject({
          code: 'scanner_error',
          message: expect.stringMatching(/could not produce an export .*3 export requests failed in a row/),
        });
      } finally {
        sim.setFaults({ export_mode: 'ok' });
      }
    });
  }

  it('download_mode chunked (no Content-Length): completed with the same findings', async () => {
    const baseline = await run({ targets: ['10.0.0.31', '10.0.0.32'] });
    sim.setFaults({ download_mode: 'chunked' });
    try {
      const done = await run({ targets: ['10.0.0.31', '10.0.0.32'] });
      expect(done.status).toBe('completed');
      expect(findings(done.results_summary)).toEqual(findings(baseline.results_summary));
    } finally {
      sim.setFaults({ download_mode: 'ok' });
    }
  });

  it('a starting Nessus (503 loading) makes scans wait, queued ones staying queued, none failed, until it is ready', async () => {
    sim.setFaults({ server_loading: 40 });
    let first: Task;
    let second: Task;
    try {
      // The first scan meets the 503s (the cached health predates the restart), which refreshes the health.
      first = await gateway.submit();
      await waitFor(() => Promise.resolve(/instance is starting|some are starting/.test(worker.logs.text())), {
        what: 'the worker to wait for the starting instance',
      });
      second = await gateway.submit();
      await waitFor(() => Promise.resolve(worker.logs.lines.some((line) => line.includes(second.task_id) && line.includes('some are starting'))), {
        what: 'the second scan to wait',
      });
      expect((await gateway.status(second.task_id)).status).toBe('queued');
      expect(['queued', 'running']).toContain((await gateway.status(first.task_id)).status);
      expect(simCounts(sim, second.task_id).created).toBe(0);
    } finally {
      sim.setFaults({ server_loading: null });
    }
    for (const task of [first, second]) expect(await waitForStatus(gateway, task.task_id, SETTLED)).toMatchObject({ status: 'completed', error: null });
  });

  it('status word publishing (outside the old map): polled as running, completed', async () => {
    sim.setFaults({ running_status: 'publishing' });
    try {
      const done = await run();
      expect(done.status).toBe('completed');
      expect(done.error).toBeNull();
    } finally {
      sim.setFaults({ running_status: null });
    }
  });

  it('status word paused (a person paused it): the task waits, logs it and completes', async () => {
    sim.setFaults({ running_status: 'paused' });
    try {
      const done = await run();
      expect(done.status).toBe('completed');
      expect(worker.logs.text()).toContain('a person paused this scan in Nessus');
    } finally {
      sim.setFaults({ running_status: null });
    }
  });

  it('status word stopped: failed with scanner_error, stopped outside this system', async () => {
    sim.setFaults({ running_status: 'stopped' });
    try {
      const done = await run();
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'scanner_error', message: expect.stringContaining("was stopped outside this system (status 'stopped')") });
    } finally {
      sim.setFaults({ running_status: null });
    }
  });

  it('error_rate 0.3 on every Nessus call: 10 of 10 scans complete with the same findings as without faults', async () => {
    const targets = (i: number): string[] => [`10.0.1.${i + 1}`, `10.0.2.${i + 1}`];
    const baseline = await Promise.all(Array.from({ length: 10 }, (_, i) => run({ targets: targets(i) })));
    expect(baseline.map((t) => t.status)).toEqual(Array(10).fill('completed'));
    sim.setFaults({ error_rate: 0.3 });
    try {
      const faulted = await Promise.all(Array.from({ length: 10 }, (_, i) => run({ targets: targets(i) }, 90_000)));
      expect(faulted.map((t) => [t.status, t.error?.code ?? null])).toEqual(Array(10).fill(['completed', null]));
      expect(faulted.map((t) => findings(t.results_summary))).toEqual(baseline.map((t) => findings(t.results_summary)));
      for (const task of faulted) expect(simCounts(sim, task.task_id)).toMatchObject({ created: 1, launched: 1 });
    } finally {
      sim.setFaults({ error_rate: 0 });
    }
  }, 120_000);

  it('error_rate 0.6: every scan completes with the right findings or fails with scanner_unavailable, never a partial result', async () => {
    const targets = (i: number): string[] => [`10.0.3.${i + 1}`, `10.0.4.${i + 1}`];
    const baseline = await Promise.all(Array.from({ length: 6 }, (_, i) => run({ targets: targets(i) })));
    sim.setFaults({ error_rate: 0.6 });
    try {
      const faulted = await Promise.all(Array.from({ length: 6 }, (_, i) => run({ targets: targets(i) }, 110_000)));
      faulted.forEach((task, i) => {
        if (task.status === 'completed') expect(findings(task.results_summary)).toEqual(findings(baseline[i]!.results_summary));
        else expect([task.status, task.error?.code]).toEqual(['failed', 'scanner_unavailable']);
      });
    } finally {
      sim.setFaults({ error_rate: 0 });
    }
  }, 150_000);
});

describe('real-Nessus session limits through the pipeline (username and password)', () => {
  let sim: RunningSimulator;
  let gateway: GatewayStandIn;

  useWorkerSystem({ redisUrl: redisUrlForDb(9), label: 'real-nessus-session', config: { sessionAuth: true, attempts: 3, backoffMs: 100 } }, (system) => {
    ({ sim, gateway } = system);
  });

  const run = async (): Promise<Task> => waitForStatus(gateway, (await gateway.submit()).task_id, SETTLED);

  it('a locked account: failed with scanner_unavailable saying the account is locked, no retry loop', async () => {
    sim.setFaults({ session_refusal: 'locked' });
    try {
      const done = await run();
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'scanner_unavailable', message: expect.stringMatching(/has locked the account 'admin'/) });
      const job = await gateway.queue.getJob(done.task_id);
      expect(job?.data.state).toMatchObject({ failed_tries: 1 });
    } finally {
      sim.setFaults({ session_refusal: null });
    }
  });

  it('"Too many users are connected" for a while: the login is retried and the scan completes', async () => {
    sim.setFaults({ session_refusal: 'too_many_users' });
    const task = await gateway.submit();
    setTimeout(() => sim.setFaults({ session_refusal: null }), 300);
    const done = await waitForStatus(gateway, task.task_id, SETTLED);
    expect(done.status).toBe('completed');
  });

  it('"Too many users are connected" for good: failed with scanner_unavailable after the retry budget', async () => {
    // Sessions expire at once, so every call needs a fresh login.
    sim.setFaults({ session_refusal: 'too_many_users', session_ttl_s: 0 });
    try {
      const done = await run();
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({
        code: 'scanner_unavailable',
        message: expect.stringMatching(/kept failing the create step \(3 tries.*Too many users are connected/),
      });
    } finally {
      sim.setFaults({ session_refusal: null, session_ttl_s: 1800 });
    }
  });
});
