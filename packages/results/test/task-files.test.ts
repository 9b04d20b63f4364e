import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ingestExport } from '../src/ingest.js';
import { S3TaskFiles } from '../src/s3-task-files.js';
import { ResultStore } from '../src/store.js';
import { LocalTaskFiles } from '../src/task-files.js';
import type { TaskFiles } from '../src/task-files.js';
import { fixturePath } from './fixtures.js';
import { createTestBucket } from './s3.js';

const TASK_ID = 'ne_scan_20251201_143022_0badf00d';

async function entries(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).catch(() => []);
}

/** One implementation under test: its files, and what it holds of a task or at all (files or objects). */
interface Variant {
  files: TaskFiles;
  /** Everything kept for the task, staging included. */
  leftovers(taskId: string): Promise<string[]>;
  /** Everything kept for any task. */
  everything(): Promise<string[]>;
  close(): void;
}

const VARIANTS: [string, (dataDir: string) => Promise<Variant>][] = [
  [
    'local files',
    async (dataDir) => ({
      files: new LocalTaskFiles(dataDir),
      leftovers: (taskId) => entries(join(dataDir, 'tasks', taskId)),
      everything: () => entries(join(dataDir, 'tasks')),
      close: () => undefined,
    }),
  ],
  [
    'object storage',
    async (dataDir) => {
      const { objects } = await createTestBucket();
      const cacheDir = join(dataDir, 'cache');
      return {
        files: new S3TaskFiles({ objects, cacheDir, cacheBytes: 64 * 1024 * 1024 }),
        leftovers: async (taskId) => [...(await objects.list(`tasks/${taskId}/`)), ...(await entries(join(cacheDir, 'work')))],
        everything: () => objects.list('tasks/'),
        close: () => objects.destroy(),
      };
    },
  ],
];

describe.each(VARIANTS)('task files in %s', (_name, makeVariant) => {
  let dataDir: string;
  let files: TaskFiles;
  let variant: Variant;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'task-files-'));
    variant = await makeVariant(dataDir);
    files = variant.files;
  });
  afterEach(async () => {
    variant.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(['../../etc', 'ne_scan_20251201_143022_0badf00d/../x', '', 'NE_SCAN_20251201_143022_0BADF00D'])('refuses the malformed task id %j before touching the disk', async (taskId) => {
    await expect(files.exportSize(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(files.openExport(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(files.writeExport(taskId, async () => undefined)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(files.resultStoreDirectory(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(files.remove(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('has no export, no size and a not-ready summary for a task never written', async () => {
    expect(await files.exportSize(TASK_ID)).toBeNull();
    expect(await files.openExport(TASK_ID)).toBeNull();
    await expect(files.readSummary(TASK_ID)).rejects.toMatchObject({ code: 'not_ready' });
  });

  it('makes a written export visible only once the writer finished, and streams it back with its size', async () => {
    const body = 'x'.repeat(5000);
    await files.writeExport(TASK_ID, async (staging) => {
      await writeFile(staging, body);
      expect(await files.exportSize(TASK_ID)).toBeNull();
    });
    expect(await files.exportSize(TASK_ID)).toBe(5000);
    const opened = await files.openExport(TASK_ID);
    expect(opened?.size).toBe(5000);
    expect(await text(opened!.stream)).toBe(body);
  });

  it('leaves neither an export nor a staging file when the writer fails', async () => {
    await expect(
      files.writeExport(TASK_ID, async (staging) => {
        await writeFile(staging, 'half');
        throw new Error('download cut');
      }),
    ).rejects.toThrow('download cut');
    expect(await files.exportSize(TASK_ID)).toBeNull();
    expect(await variant.leftovers(TASK_ID)).toEqual([]);
  });

  it('keeps the previous export when a rewrite fails', async () => {
    await files.writeExport(TASK_ID, (staging) => writeFile(staging, 'first'));
    await expect(files.writeExport(TASK_ID, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await text((await files.openExport(TASK_ID))!.stream)).toBe('first');
  });

  it('ingests the export into a store whose summary it reads back, and removes everything of the task', async () => {
    await files.writeExport(TASK_ID, async (staging) => writeFile(staging, await readFile(fixturePath('local3'))));
    const summary = await ingestExport({ files, taskId: TASK_ID });
    expect(await files.readSummary(TASK_ID)).toEqual(summary);
    expect((await ResultStore.open(await files.resultStoreDirectory(TASK_ID))).size).toBe(summary.findings_total);
    await files.remove(TASK_ID);
    expect(await files.exportSize(TASK_ID)).toBeNull();
    await expect(files.readSummary(TASK_ID)).rejects.toMatchObject({ code: 'not_ready' });
    expect(await variant.everything()).toEqual([]);
    await files.remove(TASK_ID);
  });
});
