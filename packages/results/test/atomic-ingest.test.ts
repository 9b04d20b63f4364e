import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ingestExport } from '../src/ingest.js';
import { ResultStoreCache } from '../src/store-cache.js';
import { ResultStore, readResultSummary } from '../src/store.js';
import { TASK, taskDirWith } from './fixtures.js';
import { syntheticEvents } from './synthetic-events.js';

const CHILD = fileURLToPath(new URL('./ingest-child.mjs', import.meta.url));
/** `DATA_DIR` of a task directory (`DATA_DIR/tasks/{id}`). */
const dataDirOf = (taskDir: string): string => dirname(dirname(taskDir));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function newTask(withExport: boolean) {
  const task = await taskDirWith(withExport ? 'local3' : null);
  cleanups.push(task.cleanup);
  return task;
}

const manyHosts = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`10.1.0.${i}`, [{ plugin_id: 10, severity: 2 }, { plugin_id: 11 }]]));

describe('atomic ingest', () => {
  it('reads as not ready before any ingest', async () => {
    const { storeDir } = await newTask(false);
    await expect(ResultStore.open(storeDir)).rejects.toMatchObject({ code: 'not_ready' });
    await expect(readResultSummary(storeDir)).rejects.toMatchObject({ code: 'not_ready' });
    await expect(new ResultStoreCache().query(storeDir, {}, TASK)).rejects.toMatchObject({ code: 'not_ready' });
  });

  it('leaves nothing behind when aborted mid-ingest, and the task stays not ready', async () => {
    const { taskDir, storeDir, files, taskId } = await newTask(false);
    const controller = new AbortController();
    const events = syntheticEvents(manyHosts(100), {
      afterFinding: (count) => {
        if (count === 50) controller.abort();
      },
    });
    await expect(ingestExport({ files, taskId, events, signal: controller.signal })).rejects.toThrow();
    await expect(ResultStore.open(storeDir)).rejects.toMatchObject({ code: 'not_ready' });
    expect(await readdir(taskDir)).toEqual([]);
  });

  it('refuses to write a store when the parser delivered fewer findings than it counted', async () => {
    const { storeDir, files, taskId } = await newTask(false);
    async function* dropsOne() {
      let dropped = false;
      for await (const event of syntheticEvents(manyHosts(5))) {
        if (event.type === 'finding' && !dropped) {
          dropped = true;
          continue;
        }
        yield event;
      }
    }
    await expect(ingestExport({ files, taskId, events: dropsOne() })).rejects.toThrow(/reported 10 findings but delivered 9/);
    await expect(ResultStore.open(storeDir)).rejects.toMatchObject({ code: 'not_ready' });
  });

  it('keeps serving the previous complete store when a re-ingest is aborted', async () => {
    const { taskDir, storeDir, files, taskId } = await newTask(true);
    const first = await ingestExport({ files, taskId });
    const controller = new AbortController();
    const events = syntheticEvents(manyHosts(100), {
      afterFinding: (count) => {
        if (count === 10) controller.abort();
      },
    });
    await expect(ingestExport({ files, taskId, events, signal: controller.signal })).rejects.toThrow();
    expect((await ResultStore.open(storeDir)).size).toBe(first.findings_total);
    expect((await readdir(taskDir)).sort()).toEqual(['report.nessus', 'results']);
  });

  it('survives a killed ingest process: not ready, then a new ingest completes and clears the leftovers', async () => {
    const { taskDir, storeDir, files, taskId } = await newTask(true);
    const child = spawn(process.execPath, [CHILD, dataDirOf(taskDir), taskId], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`ingest child exited early (${String(code)})`)));
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ingesting')) resolve();
      });
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect((await readdir(taskDir)).some((name) => name.startsWith('.results-tmp-'))).toBe(true);
    await expect(ResultStore.open(storeDir)).rejects.toMatchObject({ code: 'not_ready' });

    const summary = await ingestExport({ files, taskId });
    expect((await ResultStore.open(storeDir)).size).toBe(summary.findings_total);
    expect((await readdir(taskDir)).sort()).toEqual(['report.nessus', 'results']);
  });
});

describe('store cache', () => {
  it('keeps at most maxStores stores open however many tasks are queried', async () => {
    const cache = new ResultStoreCache({ maxStores: 2 });
    for (let i = 0; i < 4; i += 1) {
      const { storeDir, files, taskId } = await newTask(false);
      await ingestExport({ files, taskId, events: syntheticEvents(manyHosts(3 + i)) });
      expect((await cache.query(storeDir, { page: 1 }, TASK)).total_vulnerabilities).toBe(2 * (3 + i));
    }
    expect(cache.openStores).toBe(2);
  });

  it('notices a re-ingested store and answers from the new one', async () => {
    const cache = new ResultStoreCache();
    const { storeDir, files, taskId } = await newTask(false);
    await ingestExport({ files, taskId, events: syntheticEvents(manyHosts(5)) });
    expect((await cache.query(storeDir, {}, TASK)).total_vulnerabilities).toBe(10);
    await ingestExport({ files, taskId, events: syntheticEvents(manyHosts(7)) });
    expect((await cache.query(storeDir, {}, TASK)).total_vulnerabilities).toBe(14);
  });
});
