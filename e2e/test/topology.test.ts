import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { S3RVER_CREDENTIALS, startS3Server, type RunningS3 } from '@nessus-mcp/embedded-s3';
import { S3ObjectStore } from '@nessus-mcp/results/s3';
import { SystemUnderTest, eventually } from './system-under-test.js';

/**
 * The deployment of several hosts: two gateways and two workers, each on a DATA_DIR of its own
 * that starts empty, sharing nothing but a Redis Cluster, an S3 bucket and the two keys in their
 * environment (AUTH_TOKEN, CREDENTIALS_KEY). A worker is SIGKILLed while its scans run and none
 * replaces it: the survivor's scan watcher adopts the dead worker's parked scans at its next
 * listing of the queue (WORKER_WATCH_ADOPT_MS, 2 s here, 1 min by default), and BullMQ gives it
 * the jobs that were in a step once their locks expire.
 */

const BUCKET = 'e2e-topology';
const PREFIX = 'nessus-mcp';
const SCANS = 20;
const GATEWAYS = 2;

interface Task {
  task_id: string;
  status: string;
  results_summary?: { hosts_scanned: number } | null;
}

const credentials = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };

let s3: RunningS3;
let bucket: S3ObjectStore;
let system: SystemUnderTest;
/** Each process's DATA_DIR, by process (`gateway-0`, `worker-2`, …). */
const hostDirs = new Map<string, string>();

function hostDir(name: string): string {
  let dir = hostDirs.get(name);
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), `nmcp-e2e-topology-${name}-`));
    hostDirs.set(name, dir);
  }
  return dir;
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  bucket = new S3ObjectStore({ bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, forcePathStyle: true });
  process.env.AWS_ACCESS_KEY_ID = credentials.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.AWS_SECRET_ACCESS_KEY;
  system = await SystemUnderTest.start({
    label: 'topology',
    redis: 'cluster',
    gateways: GATEWAYS,
    workers: 2,
    // Long enough that the kill lands while the killed worker's scans run, short enough that
    // the 20 scans (two rounds of ten on the scanner's slots) finish in well under a minute.
    scanSeconds: 8,
    maxConcurrentScans: 10,
    env: {
      ...credentials,
      STORAGE_URL: `s3://${BUCKET}/${PREFIX}?endpoint=${encodeURIComponent(s3.endpoint)}&force_path_style=true`,
      CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      WORKER_WATCH_ADOPT_MS: '2000',
    },
    gatewayEnvOf: (index) => ({ DATA_DIR: hostDir(`gateway-${index}`) }),
    workerEnvOf: (index) => ({ DATA_DIR: hostDir(`worker-${index}`) }),
  });
}, 90000);

afterAll(async () => {
  await system?.stop();
  bucket?.destroy();
  await s3?.stop();
  for (const dir of hostDirs.values()) rmSync(dir, { recursive: true, force: true });
});

async function task(id: string, gateway: number): Promise<Task> {
  const response = await system.apiOn(gateway, `/api/v1/tasks/${id}`);
  if (response.status !== 200) throw new Error(`GET /api/v1/tasks/${id} on gateway-${gateway} → ${response.status}: ${await response.text()}`);
  return (await response.json()) as Task;
}

/** The task ids a process logged `message` for, in the order logged. */
function loggedTasks(processName: string, message: string): string[] {
  return system
    .logOf(processName)
    .split('\n')
    .flatMap((line) => {
      // A line still being written (or cut short by SIGKILL) is not an entry yet.
      try {
        return [JSON.parse(line) as { msg?: string; task_id?: string }];
      } catch {
        return [];
      }
    })
    .filter((entry) => entry.msg === message && entry.task_id !== undefined)
    .map((entry) => entry.task_id!);
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

async function read(gateway: number, path: string): Promise<{ status: number; body: string }> {
  const response = await system.apiOn(gateway, path);
  return { status: response.status, body: await response.text() };
}

describe('two gateways and two workers on separate DATA_DIRs, sharing only a Redis Cluster and S3', () => {
  it('runs 20 scans submitted across both gateways to completion once each, through a worker SIGKILLed mid-scan, and serves every result from both gateways', async () => {
    const ids: string[] = [];
    for (let i = 0; i < SCANS; i += 1) {
      const response = await system.apiOn(i % GATEWAYS, '/api/v1/scans/untrusted', {
        method: 'POST',
        body: JSON.stringify({ targets: `10.70.0.${i + 1}`, name: `topology scan ${i}` }),
      });
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as Task).task_id);
    }
    expect(new Set(ids).size).toBe(SCANS);

    // The kill must hit a worker with a scan of its own on Nessus: wait until one of the two has
    // launched a scan whose task is still running (its latest such), and SIGKILL that worker.
    const [victimWorker, victim] = await eventually(
      async () => {
        for (const worker of [1, 0]) {
          for (const id of loggedTasks(`worker-${worker}`, 'nessus scan launched')
            .filter((launched) => ids.includes(launched))
            .reverse()) {
            if ((await task(id, 1)).status === 'running') return [worker, id] as const;
          }
        }
        return undefined;
      },
      60000,
      'a worker to launch a scan that is still running',
      250,
    );
    await system.killWorker(victimWorker, 'SIGKILL');
    expect((await task(victim, 0)).status).toBe('running');

    // Polled from both gateways in turn: each answers for tasks submitted through either.
    let round = 0;
    const finished = await eventually(
      async () => {
        round += 1;
        const tasks = await Promise.all(ids.map((id) => task(id, round % GATEWAYS)));
        return tasks.every((t) => ['completed', 'failed', 'timeout', 'cancelled'].includes(t.status)) ? tasks : undefined;
      },
      120000,
      'every scan to finish',
      1000,
    );
    expect(finished.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
    // The killed worker's scan was finished by the surviving one.
    expect(loggedTasks(`worker-${1 - victimWorker}`, 'scan completed')).toContain(victim);

    // Exactly one Nessus scan per task, created once and launched once, the kill notwithstanding.
    const stats = await system.simStats();
    for (const id of ids) {
      const scans = Object.entries(stats.by_name).filter(([name]) => name.includes(id));
      expect(scans).toHaveLength(1);
      expect(scans[0]![1]).toMatchObject({ created: 1, launched: 1 });
    }

    for (const id of ids) {
      const keys = await bucket.list(`tasks/${id}/`);
      expect(keys).toEqual(expect.arrayContaining([`tasks/${id}/report.nessus`, `tasks/${id}/results.json`]));

      // Every page of the findings, from both gateways, byte for byte the same.
      let pages = 0;
      let totalPages = 0;
      for (let page: number | null = 1; page !== null && pages <= totalPages; pages += 1) {
        const answers = await Promise.all([0, 1].map((gateway) => read(gateway, `/api/v1/tasks/${id}/results?page=${page}&page_size=10`)));
        expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
        expect(answers[1]!.body).toBe(answers[0]!.body);
        const lines = answers[0]!.body
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { type?: string; total_pages?: number; next_page?: number | null });
        expect(lines.filter((line) => line.type === 'vulnerability').length).toBeGreaterThan(0);
        const pagination = lines.find((line) => line.type === 'pagination');
        expect(pagination).toMatchObject({ page, page_size: 10 });
        totalPages = pagination?.total_pages ?? 0;
        page = pagination?.next_page ?? null;
      }
      expect(pages).toBe(totalPages);

      const reports = await Promise.all([0, 1].map((gateway) => read(gateway, `/api/v1/tasks/${id}/report.nessus`)));
      expect(reports.map((report) => report.status)).toEqual([200, 200]);
      expect(reports[1]!.body).toBe(reports[0]!.body);
      expect(reports[0]!.body).toContain(`name="10.70.0.${ids.indexOf(id) + 1}"`);

      const html = await Promise.all([0, 1].map((gateway) => read(gateway, `/api/v1/tasks/${id}/report.html`)));
      expect(html.map((report) => report.status)).toEqual([200, 200]);
      expect(html.every((report) => report.body.includes('<html'))).toBe(true);
    }

    // Task files live in the bucket only: no process, the killed one included, kept any of its
    // own; what a DATA_DIR holds is cache.
    expect([...hostDirs.keys()].sort()).toEqual(['gateway-0', 'gateway-1', 'worker-0', 'worker-1']);
    for (const [name, dir] of hostDirs) {
      expect({ name, entries: readdirSync(dir).filter((entry) => entry !== 'cache') }).toEqual({ name, entries: [] });
      expect({ name, files: filesUnder(dir).filter((path) => !path.startsWith('cache/')) }).toEqual({ name, files: [] });
    }
  }, 150000);
});
