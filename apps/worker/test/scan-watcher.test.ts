import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { loadWorkerSettings } from '../src/worker-settings.js';
import {
  GatewayStandIn,
  flushDb,
  redisUrlForDb,
  removeDir,
  startInProcessWorker,
  startSim,
  tempDir,
  waitFor,
  waitForStatus,
  writeScannersConfig,
  type InProcessWorker,
} from './worker-harness.js';

const REDIS_URL = redisUrlForDb(10);

describe('the scan watcher', () => {
  let sim: RunningSimulator;
  let dir: string;
  let configPath: string;
  let gateway: GatewayStandIn;
  let worker: InProcessWorker | null = null;

  beforeAll(async () => {
    await flushDb(REDIS_URL);
    sim = await startSim({ scan_seconds: 3 });
    dir = tempDir('watcher');
    // The adaptive schedule would poll a 3 s scan about ten times.
    configPath = writeScannersConfig(dir, sim.url, { pollMinMs: 150, pollMaxMs: 400 });
    gateway = new GatewayStandIn(REDIS_URL);
  });

  afterEach(async () => {
    await worker?.app.close();
    worker = null;
  });

  afterAll(async () => {
    await gateway.close();
    await sim.close();
    removeDir(dir);
  });

  const pollsOf = async (taskId: string): Promise<number | undefined> => (await gateway.queue.getJob(taskId))?.data.state?.polls;

  it('wakes a parked scan job as soon as Nessus lists the scan as ended, instead of polling it on a schedule', async () => {
    worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, watchIntervalMs: 200, watchedPollMs: 60_000 });
    const task = await gateway.submit();
    // Well before the 60 s fallback poll: only the watcher can have noticed the end.
    await waitForStatus(gateway, task.task_id, ['completed'], 20_000);
    // One poll right after the launch, one after the wake.
    expect(await pollsOf(task.task_id)).toBe(2);
  });

  it('polls each scan from its own job on the adaptive schedule when turned off', async () => {
    worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, watchIntervalMs: 0 });
    const task = await gateway.submit();
    await waitForStatus(gateway, task.task_id, ['completed'], 20_000);
    expect(await pollsOf(task.task_id)).toBeGreaterThan(3);
  });

  it('takes the parked scans of a stopped worker back under watch when a worker starts', async () => {
    sim.setFaults({ scan_seconds: 5 });
    try {
      worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, watchIntervalMs: 200, watchedPollMs: 60_000 });
      const task = await gateway.submit();
      await waitFor(
        async () => {
          const job = await gateway.queue.getJob(task.task_id);
          return job && job.data.state?.step === 'poll' && (await job.getState()) === 'delayed';
        },
        { what: 'the job parked in the poll step' },
      );
      await worker.app.close();
      worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, watchIntervalMs: 200, watchedPollMs: 60_000 });
      await waitForStatus(gateway, task.task_id, ['completed'], 20_000);
      expect(await pollsOf(task.task_id)).toBe(2);
    } finally {
      sim.setFaults({ scan_seconds: 3 });
    }
  });
});

describe('scan watcher settings', () => {
  it('defaults to a 1 s tick with a 10 min fallback poll, and takes 0 to turn the watcher off', () => {
    expect(loadWorkerSettings({})).toMatchObject({ watchIntervalMs: 1_000, watchedPollMs: 600_000, watchAdoptMs: 60_000 });
    expect(loadWorkerSettings({ WORKER_WATCH_INTERVAL_MS: '0', WORKER_WATCHED_POLL_MS: '30000', WORKER_WATCH_ADOPT_MS: '0' })).toMatchObject({
      watchIntervalMs: 0,
      watchedPollMs: 30_000,
      watchAdoptMs: 0,
    });
  });

  it('refuses values that are not whole milliseconds, naming the variable', () => {
    expect(() => loadWorkerSettings({ WORKER_WATCH_INTERVAL_MS: '50' })).toThrow('WORKER_WATCH_INTERVAL_MS=50 must be an integer >= 100 (or 0 to turn it off)');
    expect(() => loadWorkerSettings({ WORKER_WATCHED_POLL_MS: 'soon' })).toThrow('WORKER_WATCHED_POLL_MS=soon must be an integer >= 1000');
    expect(() => loadWorkerSettings({ WORKER_WATCH_ADOPT_MS: '500' })).toThrow('WORKER_WATCH_ADOPT_MS=500 must be an integer >= 1000 (or 0 to turn it off)');
  });
});
