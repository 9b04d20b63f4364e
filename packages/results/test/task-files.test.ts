import { mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
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

  it.each(['../../etc', 'ne_scan_20251201_143022_0badf00d/../x', '', 'NE_SCAN_20251201_143022_0BADF00D'])(
    'refuses the malformed task id %j before touching the disk',
    async (taskId) => {
      await expect(files.exportSize(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.openExport(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.writeExport(taskId, async () => undefined)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.resultStoreDirectory(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.remove(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.findFingerprint(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.keepFingerprint(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(files.removeKeptFingerprint(taskId)).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(await readdir(dataDir)).toEqual([]);
    },
  );

  it("grants an export half the free space of the data directory's file system, creating the directory first", async () => {
    const fresh = join(dataDir, 'not-yet-created');
    const space = await new LocalTaskFiles(fresh).exportSpace();
    const fs = await statfs(fresh);
    // Other processes write to the same disk meanwhile: the two readings agree to within 64 MB.
    expect(Math.abs(space - (fs.bavail * fs.bsize) / 2)).toBeLessThan(64 * 1024 * 1024);
    expect(space).toBeGreaterThan(0);
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

  it('publishes the fingerprint with the store, and keeps it in the history after the task files are removed', async () => {
    expect(await files.findFingerprint(TASK_ID)).toBeNull();
    await files.writeExport(TASK_ID, async (staging) => writeFile(staging, await readFile(fixturePath('local3'))));
    const summary = await ingestExport({ files, taskId: TASK_ID });
    const inStore = await files.findFingerprint(TASK_ID);
    expect(inStore?.kept).toBe('store');
    const fingerprints = await inStore!.load();
    expect(fingerprints?.size).toBe(summary.findings_total);

    await files.keepFingerprint(TASK_ID);
    await files.remove(TASK_ID);
    expect(await files.exportSize(TASK_ID)).toBeNull();
    const kept = await files.findFingerprint(TASK_ID);
    expect(kept?.kept).toBe('history');
    expect((await kept!.load())?.hostIds).toEqual(fingerprints?.hostIds);
    // A second keep (a retention run repeated after a crash) changes nothing.
    await files.keepFingerprint(TASK_ID);
    expect((await files.findFingerprint(TASK_ID))?.kept).toBe('history');

    await files.removeKeptFingerprint(TASK_ID);
    expect(await files.findFingerprint(TASK_ID)).toBeNull();
    await files.removeKeptFingerprint(TASK_ID);
  });

  it('gives a re-ingested fingerprint a new version, so a cached copy is seen as stale', async () => {
    await files.writeExport(TASK_ID, async (staging) => writeFile(staging, await readFile(fixturePath('local3'))));
    await ingestExport({ files, taskId: TASK_ID });
    const first = await files.findFingerprint(TASK_ID);
    await ingestExport({ files, taskId: TASK_ID });
    const second = await files.findFingerprint(TASK_ID);
    expect(second?.version).not.toBe(first?.version);
  });
});
