import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '@nessus-mcp/nessus-sim';
import { LocalTaskFiles } from '@nessus-mcp/results';
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

const REDIS_URL = redisUrlForDb(10);

/**
 * The task files of a data directory whose disk is nearly full: the space granted to an export
 * is what a test sets, everything else is the real local layout.
 */
class NearlyFullTaskFiles extends LocalTaskFiles {
  space: number | null = null;

  override async exportSpace(): Promise<number> {
    return this.space ?? super.exportSpace();
  }
}

describe('the worker checks free disk space before it downloads an export', () => {
  let sim: RunningSimulator;
  let dir: string;
  let files: NearlyFullTaskFiles;
  let worker: InProcessWorker;
  let gateway: GatewayStandIn;

  beforeAll(async () => {
    await flushDb(REDIS_URL);
    sim = await startSim();
    dir = tempDir('disk');
    files = new NearlyFullTaskFiles(dir);
    const configPath = writeScannersConfig(dir, sim.url, { attempts: 2, backoffMs: 100 });
    worker = await startInProcessWorker({ redisUrl: REDIS_URL, dataDir: dir, configPath, files });
    gateway = new GatewayStandIn(REDIS_URL, 2, 100);
  });
  afterAll(async () => {
    await worker.app.close();
    await gateway.close();
    await sim.close();
    removeDir(dir);
  });

  it('fails the task with a message naming both sizes when the export would not fit, and writes no export', async () => {
    files.space = 1000;
    const task = await gateway.submit({ targets: ['10.3.0.1'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toMatch(
      /The export is \d+\.\d MB but only 0\.0 MB are free under the data directory \(DATA_DIR\); the download was not started/,
    );
    expect(await files.exportSize(task.task_id)).toBeNull();
  });

  it('downloads and completes when the free space holds the export (the local file system, unmodified)', async () => {
    files.space = null;
    expect(await files.exportSpace()).toBeGreaterThan(0);
    const task = await gateway.submit({ targets: ['10.3.0.2'] });
    const done = await waitForStatus(gateway, task.task_id, ['completed', 'failed']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(await files.exportSize(task.task_id)).toBeGreaterThan(1000);
  });
});
