import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import {
  GatewayStandIn,
  flushDb,
  redisUrlForDb,
  removeDir,
  startInProcessWorker,
  startSim,
  tempDir,
  waitForStatus,
  writeScannersConfig,
  type InProcessWorker,
} from './worker-harness.js';

const REDIS_URL = redisUrlForDb(5);

describe('a scanner reached with username and password', () => {
  let sim: RunningSimulator;
  let dir: string;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;

  beforeAll(async () => {
    await flushDb(REDIS_URL);
    // Sessions idle out after 1 s; polls and the scan watcher's looks come 1.2-1.5 s apart, so each
    // call finds its session expired (a faster watcher would keep the session alive).
    sim = await startSim({ scan_seconds: 3, session_ttl_s: 1 });
    dir = tempDir('session');
    const configPath = writeScannersConfig(dir, sim.url, { sessionAuth: true, pollMinMs: 1200, pollMaxMs: 1500 });
    worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, watchIntervalMs: 1300, watchedPollMs: 1300 });
    gateway = new GatewayStandIn(REDIS_URL);
  });

  afterAll(async () => {
    await worker.app.close();
    await gateway.close();
    await sim.close();
    removeDir(dir);
  });

  it('logs in again when the session expires mid-scan and completes', async () => {
    const task = await gateway.submit();
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(worker.logs.lines.some((line) => line.includes('session expired; logging in again'))).toBe(true);
    expect(worker.logs.text()).not.toContain('sim-admin-password');
  });
});
