import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { AuditLog, type ScanJobData } from '@nessus-mcp/core';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import {
  GatewayStandIn,
  flushDb,
  redisUrlForDb,
  removeDir,
  startInProcessWorker,
  startSim,
  tempDir,
  waitFor,
  waitForJob,
  waitForStatus,
  writeScannersConfig,
  type InProcessWorker,
} from './worker-harness.js';

const REDIS_URL = redisUrlForDb(7);

interface RecordedCall {
  method: string;
  path: string;
  body: string;
}

/** Sits between the worker and the simulator and keeps every request, to see what Nessus was really asked. */
async function startRecordingProxy(target: string): Promise<{ url: string; calls: RecordedCall[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push({ method: req.method ?? '', path: req.url ?? '', body: body.toString('utf8') });
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every target list the worker sent to Nessus in a scan creation or update. */
function targetsSentToNessus(calls: readonly RecordedCall[]): string[] {
  return calls
    .filter((call) => (call.method === 'POST' && call.path.startsWith('/scans')) || call.method === 'PUT')
    .map((call) => {
      try {
        return String((JSON.parse(call.body) as { settings?: { text_targets?: unknown } }).settings?.text_targets ?? '');
      } catch {
        return '';
      }
    })
    .filter((text) => text !== '');
}

describe('the worker re-checks every job against its task and the allow-list before creating a scan', () => {
  let sim: RunningSimulator;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let dir: string;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;
  let audit: AuditLog;

  beforeAll(async () => {
    await flushDb(REDIS_URL);
    sim = await startSim();
    proxy = await startRecordingProxy(sim.url);
    dir = tempDir('scope');
    const configPath = writeScannersConfig(dir, proxy.url, { attempts: 2, backoffMs: 100 });
    worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath });
    gateway = new GatewayStandIn(REDIS_URL, 1);
    audit = new AuditLog(gateway.redis);
  });
  afterAll(async () => {
    await worker.app.close();
    await gateway.close();
    await proxy.close();
    await sim.close();
    removeDir(dir);
  });
  beforeEach(() => {
    sim.setFaults({ error_rate: 0 });
  });

  it('scans an untouched job (the proxy sees its targets)', async () => {
    const task = await gateway.submit({ targets: ['10.1.0.1', '10.1.0.2'] });
    expect((await waitForStatus(gateway, task.task_id, ['completed', 'failed'])).status).toBe('completed');
    expect(targetsSentToNessus(proxy.calls)).toContain('10.1.0.1,10.1.0.2');
  });

  it.each([['198.51.100.7'], ['0.0.0.0/0'], ['10.9.9.9']])(
    'fails a job whose targets were edited to %s with out_of_scope, scanning nothing',
    async (edited) => {
      const task = await gateway.submit({ targets: ['10.2.0.1'], enqueue: false });
      const stored = await gateway.tasks.getJobPayload<ScanJobData>(task.task_id);
      await gateway.queue.add('scan', { ...stored!, targets: [edited] }, { jobId: task.task_id });
      const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'out_of_scope', message: expect.stringContaining('targets no longer matches the task') });
      expect(done.targets).toEqual(['10.2.0.1']);
      expect(targetsSentToNessus(proxy.calls).join('\n')).not.toContain(edited);
      const [latest] = await audit.list({ limit: 1 });
      expect(latest).toMatchObject({ client: 'worker', action: 'scan.scope_violation', task_id: task.task_id, targets: [edited], outcome: 'out_of_scope' });
      // Never retried: out_of_scope is final whatever the attempts say.
      await waitForJob(gateway, task.task_id, 'failed');
    },
  );

  it('refuses a failed job edited in the failed set and retried (the Bull Board update-data + retry path)', async () => {
    sim.setFaults({ error_rate: 1 });
    const task = await gateway.submit({ targets: ['10.3.0.1'] });
    const job = await waitForJob(gateway, task.task_id, 'failed');
    sim.setFaults({ error_rate: 0 });
    const before = proxy.calls.length;
    await job.updateData({ ...job.data, targets: ['198.51.100.0/24'] });
    await job.retry('failed');
    await waitFor(
      async () => {
        const current = await gateway.tasks.get(task.task_id);
        return current?.status === 'failed' && current.error?.code === 'out_of_scope';
      },
      { what: 'the retried task to fail out_of_scope' },
    );
    expect(targetsSentToNessus(proxy.calls.slice(before))).toEqual([]);
  });

  it('refuses a job whose task targets left the allow-list since submission (a narrowed allowed_targets)', async () => {
    const task = await gateway.submit({ targets: ['203.0.113.5'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.error).toMatchObject({ code: 'out_of_scope', message: expect.stringContaining("'203.0.113.5' is outside the targets") });
    expect(targetsSentToNessus(proxy.calls).join('\n')).not.toContain('203.0.113.5');
  });

  it('refuses a job over the address limit even when it matches its task', async () => {
    const task = await gateway.submit({ targets: ['10.0.0.0/8'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.error).toMatchObject({ code: 'out_of_scope', message: expect.stringContaining('larger than the allowed') });
  });
});
