import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ingestExport } from '../src/ingest.js';
import type { ObjectStore } from '../src/object-store.js';
import { S3ObjectStore } from '../src/object-store.js';
import { openTaskFiles } from '../src/open-task-files.js';
import { S3TaskFiles } from '../src/s3-task-files.js';
import { ResultStoreCache } from '../src/store-cache.js';
import { ResultStore } from '../src/store.js';
import { TASK, fixturePath, type FixtureName } from './fixtures.js';
import { createTestBucket, s3Endpoint } from './s3.js';

const CHILD = fileURLToPath(new URL('./s3-ingest-child.mjs', import.meta.url));
const TASK_A = 'ne_scan_20251201_143022_0000000a';
const TASK_B = 'ne_scan_20251201_143022_0000000b';
const MB = 1024 * 1024;

let dataDir: string;
let bucket: string;
let objects: S3ObjectStore;
const cleanups: (() => void)[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 's3-task-files-'));
  ({ bucket, objects } = await createTestBucket('deploy/one'));
});
afterEach(async () => {
  cleanups.splice(0).forEach((cleanup) => cleanup());
  objects.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

/** Counts the calls a task-files implementation makes, so a test can tell a cache hit from a download. */
function counting(inner: ObjectStore): { store: ObjectStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const store = new Proxy(inner, {
    get(target, property: string) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[property] = (calls[property] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

async function ingested(files: S3TaskFiles, taskId: string, fixture: FixtureName = 'local3'): Promise<void> {
  await files.writeExport(taskId, async (staging) => writeFile(staging, await readFile(fixturePath(fixture))));
  await ingestExport({ files, taskId });
}

describe('task files in object storage', () => {
  it('keeps every object under the STORAGE_URL prefix, with the store published by a pointer', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A);
    const keys = await objects.list('');
    expect(keys).toContain(`tasks/${TASK_A}/report.nessus`);
    expect(keys).toContain(`tasks/${TASK_A}/results.json`);
    expect(
      keys
        .filter((key) => key.includes('/results/'))
        .map((key) => key.split('/').at(-1))
        .sort(),
    ).toEqual(expect.arrayContaining(['manifest.json', 'summary.json', 'findings.ndjson']));
    const unprefixed = new S3ObjectStore({ bucket, prefix: '', endpoint: s3Endpoint(), forcePathStyle: true });
    cleanups.push(() => unprefixed.destroy());
    expect((await unprefixed.list('')).every((key) => key.startsWith('deploy/one/tasks/'))).toBe(true);
    // The worker's build happens in a temporary directory that is gone once the store is published.
    expect(await readdir(join(dataDir, 'cache', 'work'))).toEqual([]);
  });

  it('leaves the task not ready, with no store objects, when an upload fails before the pointer', async () => {
    let puts = 0;
    const failing = new Proxy(objects, {
      get(target, property: string) {
        if (property !== 'putFile') return (Reflect.get(target, property) as (...a: unknown[]) => unknown).bind(target);
        return async (key: string, path: string) => {
          puts += 1;
          if (key.includes('/results/') && puts === 4) throw new Error('connection reset');
          return target.putFile(key, path);
        };
      },
    });
    const files = new S3TaskFiles({ objects: failing, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB, uploadConcurrency: 1 });
    await files.writeExport(TASK_A, async (staging) => writeFile(staging, await readFile(fixturePath('local3'))));
    await expect(ingestExport({ files, taskId: TASK_A })).rejects.toThrow('connection reset');
    await expect(files.readSummary(TASK_A)).rejects.toMatchObject({ code: 'not_ready' });
    await expect(ResultStore.open(await files.resultStoreDirectory(TASK_A))).rejects.toMatchObject({ code: 'not_ready' });
    expect((await objects.list(`tasks/${TASK_A}/`)).sort()).toEqual([`tasks/${TASK_A}/report.nessus`]);
  });

  it('leaves the task not ready when the worker is killed mid-upload, and the next ingest removes the orphaned objects', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await files.writeExport(TASK_A, async (staging) => writeFile(staging, await readFile(fixturePath('local3'))));
    const child = spawn(process.execPath, [CHILD, bucket, 'deploy/one', join(dataDir, 'child-cache'), TASK_A], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('uploading')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const orphans = await objects.list(`tasks/${TASK_A}/results/`);
    expect(orphans).toHaveLength(1);
    await expect(files.readSummary(TASK_A)).rejects.toMatchObject({ code: 'not_ready' });
    await expect(new ResultStoreCache().query(await files.resultStoreDirectory(TASK_A), {}, TASK)).rejects.toMatchObject({ code: 'not_ready' });

    const summary = await ingestExport({ files, taskId: TASK_A });
    expect(await files.readSummary(TASK_A)).toEqual(summary);
    expect(await objects.list(`tasks/${TASK_A}/results/`)).not.toContain(orphans[0]);
  });

  it('downloads a store once, then answers from the local copy while the pointer ETag is unchanged', async () => {
    const { store, calls } = counting(objects);
    const files = new S3TaskFiles({ objects: store, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A);
    const first = await files.resultStoreDirectory(TASK_A);
    const downloadsAfterFirst = calls.download ?? 0;
    expect((await ResultStore.open(first)).size).toBeGreaterThan(0);
    expect(await files.resultStoreDirectory(TASK_A)).toBe(first);
    expect(calls.download).toBe(downloadsAfterFirst);
    expect(files.downloads.downloads).toBe(1);
  });

  it('downloads again after a re-ingest changed the pointer, and drops the old copy', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A, 'local3');
    const before = await files.resultStoreDirectory(TASK_A);
    const sizeBefore = (await ResultStore.open(before)).size;
    await ingested(files, TASK_A, 'cvss3');
    const after = await files.resultStoreDirectory(TASK_A);
    expect(after).not.toBe(before);
    await expect(readdir(before)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await ResultStore.open(after)).size).not.toBe(sizeBefore);
    expect(files.downloads.downloads).toBe(2);
  });

  it('downloads again when the cache was deleted: the cache holds nothing that is not in the bucket', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A);
    const summary = await files.readSummary(TASK_A);
    const directory = await files.resultStoreDirectory(TASK_A);
    await rm(join(dataDir, 'cache'), { recursive: true, force: true });
    expect(await files.resultStoreDirectory(TASK_A)).toBe(directory);
    expect((await ResultStore.open(directory)).size).toBe(summary.findings_total);
  });

  it('evicts the least recently used store once the cache exceeds its size, keeping the one in use', async () => {
    const writer = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'worker-cache'), cacheBytes: 64 * MB });
    await ingested(writer, TASK_A);
    await ingested(writer, TASK_B);
    // Room for one store: reading B evicts A, reading A again downloads it and evicts B.
    const gateway = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 1 });
    const a = await gateway.resultStoreDirectory(TASK_A);
    const b = await gateway.resultStoreDirectory(TASK_B);
    await expect(readdir(a)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await ResultStore.open(b)).size).toBeGreaterThan(0);
    expect(await gateway.resultStoreDirectory(TASK_A)).toBe(a);
    await expect(readdir(b)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(gateway.downloads.downloads).toBe(3);

    const roomy = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache-2'), cacheBytes: 64 * MB });
    await roomy.resultStoreDirectory(TASK_A);
    await roomy.resultStoreDirectory(TASK_B);
    await roomy.resultStoreDirectory(TASK_A);
    expect(roomy.downloads.downloads).toBe(2);
  });

  it('removes every object of the task and its local copy, and other tasks keep theirs', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A);
    await ingested(files, TASK_B);
    const directory = await files.resultStoreDirectory(TASK_A);
    await files.remove(TASK_A);
    expect(await objects.list(`tasks/${TASK_A}/`)).toEqual([]);
    await expect(readdir(directory)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(ResultStore.open(await files.resultStoreDirectory(TASK_A))).rejects.toMatchObject({ code: 'not_ready' });
    expect(await files.exportSize(TASK_B)).toBeGreaterThan(0);
    expect((await files.readSummary(TASK_B)).findings_total).toBeGreaterThan(0);
  });

  it('publishes the fingerprint with the store, and keeps it under history/ after the task objects are removed', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    expect(await files.findFingerprint(TASK_A)).toBeNull();
    await ingested(files, TASK_A);
    const inStore = await files.findFingerprint(TASK_A);
    expect(inStore?.kept).toBe('store');
    const fingerprints = await inStore!.load();
    expect(fingerprints?.size).toBe((await files.readSummary(TASK_A)).findings_total);

    await files.keepFingerprint(TASK_A);
    await files.remove(TASK_A);
    expect(await objects.list(`tasks/${TASK_A}/`)).toEqual([]);
    expect(await objects.list('history/')).toEqual([`history/${TASK_A}.json`]);
    const kept = await files.findFingerprint(TASK_A);
    expect(kept?.kept).toBe('history');
    expect((await kept!.load())?.hostIds).toEqual(fingerprints?.hostIds);
    // Repeated after a crash (the store already removed): nothing changes.
    await files.keepFingerprint(TASK_A);
    expect((await files.findFingerprint(TASK_A))?.kept).toBe('history');

    await files.removeKeptFingerprint(TASK_A);
    expect(await files.findFingerprint(TASK_A)).toBeNull();
    await files.removeKeptFingerprint(TASK_A);
  });

  it('gives a re-ingested fingerprint a new version, so a cached copy is seen as stale', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    await ingested(files, TASK_A);
    const first = await files.findFingerprint(TASK_A);
    await ingestExport({ files, taskId: TASK_A });
    const second = await files.findFingerprint(TASK_A);
    expect(second?.version).not.toBe(first?.version);
  });

  it('grants an export half the free space of the local work directory', async () => {
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: 64 * MB });
    expect(await files.exportSpace()).toBeGreaterThan(0);
  });

  it('checks the bucket at start and refuses one that does not exist, naming it but no credentials', async () => {
    const location = { kind: 's3' as const, bucket: 'no-such-bucket-here', prefix: '', endpoint: s3Endpoint(), region: undefined, forcePathStyle: true };
    await expect(openTaskFiles({ dataDir, storage: location, storageCacheBytes: MB })).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringMatching(/STORAGE_URL: bucket 'no-such-bucket-here' is not usable: the bucket does not exist/),
    });
    const opened = await openTaskFiles({ dataDir, storage: { ...location, bucket }, storageCacheBytes: MB });
    cleanups.push(() => opened.close());
    expect(opened.files).toBeInstanceOf(S3TaskFiles);
    expect(opened.description).toBe(`s3://${bucket} (${new URL(s3Endpoint()).host})`);
  });

  it('refuses wrong credentials at start without echoing them', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'WRONGKEYID';
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret-value';
    try {
      const error = await openTaskFiles({
        dataDir,
        storage: { kind: 's3', bucket, prefix: '', endpoint: s3Endpoint(), region: undefined, forcePathStyle: true },
        storageCacheBytes: MB,
      }).catch((caught: unknown) => caught as Error);
      expect(error).toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/access is denied/) });
      expect((error as Error).message).not.toMatch(/WRONGKEYID|wrong-secret-value/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('refuses an unreachable server at start', async () => {
    await expect(
      openTaskFiles({
        dataDir,
        storage: { kind: 's3', bucket, prefix: '', endpoint: 'http://127.0.0.1:1', region: undefined, forcePathStyle: true },
        storageCacheBytes: MB,
      }),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringMatching(/could not be reached/),
    });
  });
});

describe('object storage failures', () => {
  it('turns a server that went away into a retryable error naming the operation, not the address', async () => {
    const gone = new S3ObjectStore({ bucket, prefix: '', endpoint: 'http://127.0.0.1:1', forcePathStyle: true });
    cleanups.push(() => gone.destroy());
    const files = new S3TaskFiles({ objects: gone, cacheDir: join(dataDir, 'cache'), cacheBytes: MB });
    const error = await files.exportSize(TASK_A).catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject({
      code: 'internal',
      retryable: true,
      message: expect.stringMatching(/^Object storage \(STORAGE_URL\) failed to read an object: /),
    });
    expect((error as Error).message).not.toContain('127.0.0.1');
  });
});

describe('local work directory', () => {
  it("removes what a killed process of this host left in the work directory, and leaves other hosts' work alone", async () => {
    const work = join(dataDir, 'cache', 'work');
    const dead = join(work, `${hostname()}~999999999~abc`);
    const otherHost = join(work, 'another-host~1~abc');
    await mkdir(join(dead, 'store'), { recursive: true });
    await mkdir(otherHost, { recursive: true });
    const files = new S3TaskFiles({ objects, cacheDir: join(dataDir, 'cache'), cacheBytes: MB });
    await files.writeExport(TASK_A, (staging) => writeFile(staging, 'x'));
    expect((await readdir(work)).sort()).toEqual(['another-host~1~abc']);
  });
});
