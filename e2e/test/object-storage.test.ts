import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { S3RVER_CREDENTIALS, startS3Server, type RunningS3 } from '@nessus-mcp/embedded-s3';
import { S3ObjectStore } from '@nessus-mcp/results/s3';
import { REPO_ROOT, SystemUnderTest, eventually, runCommand } from './system-under-test.js';

const BUCKET = 'e2e-scans';
const PREFIX = 'nessus-mcp';

let s3: RunningS3;
let system: SystemUnderTest;
let gatewayDataDir: string;
let bucket: S3ObjectStore;

const credentials = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  gatewayDataDir = mkdtempSync(join(tmpdir(), 'nmcp-e2e-s3-gateway-'));
  bucket = new S3ObjectStore({ bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, forcePathStyle: true });
  process.env.AWS_ACCESS_KEY_ID = credentials.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.AWS_SECRET_ACCESS_KEY;
  system = await SystemUnderTest.start({
    label: 'object-storage',
    scanSeconds: 2,
    // Hosts apart share only Redis, the bucket and the two keys: the gateway encrypts scan
    // credentials the worker decrypts, so CREDENTIALS_KEY cannot be generated per host.
    env: {
      ...credentials,
      STORAGE_URL: `s3://${BUCKET}/${PREFIX}?endpoint=${encodeURIComponent(s3.endpoint)}&force_path_style=true`,
      CREDENTIALS_KEY: randomBytes(32).toString('base64'),
    },
    gatewayEnv: { DATA_DIR: gatewayDataDir },
  });
}, 120000);

afterAll(async () => {
  await system?.stop();
  bucket?.destroy();
  await s3?.stop();
  if (gatewayDataDir) rmSync(gatewayDataDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

describe('task files in object storage, gateway and worker on separate data directories', () => {
  it('runs a scan whose export and results live in the bucket, and the gateway keeps nothing but its cache', async () => {
    const submitted = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets: '192.168.70.10', name: 's3 scan' }) });
    expect(submitted.status).toBe(202);
    const { task_id: taskId } = (await submitted.json()) as { task_id: string };
    await eventually(
      async () => ((await (await system.api(`/api/v1/tasks/${taskId}`)).json()) as { status: string }).status === 'completed',
      90000,
      'the scan to complete',
    );

    const keys = await bucket.list(`tasks/${taskId}/`);
    expect(keys).toEqual(expect.arrayContaining([`tasks/${taskId}/report.nessus`, `tasks/${taskId}/results.json`]));
    // Neither process kept a task file of its own.
    expect(readdirSync(system.dataDir)).not.toContain('tasks');
    expect(readdirSync(gatewayDataDir)).not.toContain('tasks');

    const page = await system.api(`/api/v1/tasks/${taskId}/results?page=0`);
    expect(page.status).toBe(200);
    const lines = (await page.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(lines.filter((line) => line.type === 'vulnerability').length).toBeGreaterThan(0);
    const report = await system.api(`/api/v1/tasks/${taskId}/report.nessus`);
    expect(report.status).toBe(200);
    expect(await report.text()).toContain('name="192.168.70.10"');

    expect(filesUnder(gatewayDataDir).every((path) => path.startsWith('cache/'))).toBe(true);
    expect(filesUnder(gatewayDataDir).length).toBeGreaterThan(0);

    // Deleting the gateway's cache loses nothing: the next page downloads the store again.
    rmSync(join(gatewayDataDir, 'cache'), { recursive: true, force: true });
    const again = await system.api(`/api/v1/tasks/${taskId}/results?page=0`);
    expect(again.status).toBe(200);
    expect((await again.text()).trim().split('\n').length).toBe(lines.length);
  }, 120000);

  it('refuses to start a worker or a gateway whose STORAGE_URL is unusable, naming the problem without the secret', async () => {
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRET';
    const cases = [
      { url: `s3://AKIAEXAMPLE:${secret}@${BUCKET}`, says: /STORAGE_URL: credentials do not belong in the URL/ },
      {
        url: `s3://no-such-bucket?endpoint=${encodeURIComponent(s3.endpoint)}&force_path_style=true`,
        says: /STORAGE_URL: bucket 'no-such-bucket' is not usable: the bucket does not exist/,
      },
    ];
    for (const script of ['apps/worker/dist/main.js', 'apps/gateway/dist/main.js']) {
      for (const { url, says } of cases) {
        const dataDir = mkdtempSync(join(tmpdir(), 'nmcp-e2e-s3-refused-'));
        const result = await runCommand(process.execPath, [join(REPO_ROOT, script)], {
          env: system.env({ STORAGE_URL: url, DATA_DIR: dataDir, GATEWAY_PORT: '0', WORKER_METRICS_PORT: '0' }),
          timeoutMs: 30000,
        });
        rmSync(dataDir, { recursive: true, force: true });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(says);
        expect(result.stdout + result.stderr).not.toContain(secret);
      }
    }
  }, 120000);
});
