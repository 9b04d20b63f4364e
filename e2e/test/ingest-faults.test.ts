import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { SystemUnderTest, eventually, toolText } from './system-under-test.js';

/*
 * Faults on the way from the scanner's export to readable results: the disk filling up while
 * the worker writes, and an export that is not well-formed XML. Each must end the task `failed`
 * with a reason a person can act on, and never leave half a result behind.
 */

interface Task {
  task_id: string;
  status: string;
  error?: { code: string; message: string } | null;
  results_summary?: unknown;
}

const ATTEMPTS = 3;

/**
 * An HTTP hop between the worker and the simulator. With `corruptExports` on, export downloads
 * arrive complete (right Content-Length) but are not well-formed XML: the second half of the
 * document is replaced by an unclosed element, as a scanner bug or a broken middlebox might.
 */
class ExportCorruptingProxy {
  corruptExports = false;
  corruptedDownloads = 0;
  private server: Server | null = null;
  private target = '';

  async start(target: string): Promise<string> {
    this.target = target;
    this.server = createServer((req, res) => {
      const upstream = new URL(req.url ?? '/', this.target);
      const forward = request(upstream, { method: req.method ?? 'GET', headers: { ...req.headers, host: upstream.host } }, (answer: IncomingMessage) => {
        const isDownload = /\/export\/[^/]+\/download$/.test(upstream.pathname) || upstream.pathname.startsWith('/tokens/');
        if (!this.corruptExports || !isDownload || answer.statusCode !== 200) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // An upstream that cuts the body short (download_mode "truncated") is cut short here too.
          pipeline(answer, res).catch(() => res.destroy());
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const xml = Buffer.concat(chunks).toString('utf8');
          const broken = Buffer.from(`${xml.slice(0, Math.floor(xml.length / 2))}<ReportItem port="22" broken="yes"></NessusClientData_v2>\n`);
          this.corruptedDownloads += 1;
          res.writeHead(200, { ...answer.headers, 'content-length': String(broken.length) });
          res.end(broken);
        });
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolveListen) => this.server!.listen(0, '127.0.0.1', resolveListen));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolveClose) => this.server!.close(() => resolveClose()));
  }
}

const proxy = new ExportCorruptingProxy();
let system: SystemUnderTest;
const mounts: string[] = [];

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'ingest-faults', scanSeconds: 1, attempts: ATTEMPTS, scannerUrl: (simUrl) => proxy.start(simUrl) });
}, 90000);

afterAll(async () => {
  for (const mount of mounts.splice(0)) unmount(mount);
  await system?.stop();
  await proxy.stop();
});

function unmount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'pipe' });
  } catch {
    // Busy (a worker still holds a file): detach it now, the kernel frees it when released.
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  }
}

/** A tmpfs of `size` over DATA_DIR/tasks: every task file the worker writes lands on it. */
function mountSmallTasksDisk(size: string): string {
  const tasksDir = join(system.dataDir, 'tasks');
  mkdirSync(tasksDir, { recursive: true });
  if (process.getuid?.() !== 0)
    throw new Error(`the disk-full test mounts a tmpfs and must run as root (uid ${process.getuid?.()}); run the suite as root or with sudo`);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', tasksDir], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`cannot mount a ${size} tmpfs at ${tasksDir} to simulate a full disk: ${stderr || String(error)}`, { cause: error });
  }
  mounts.push(tasksDir);
  return tasksDir;
}

async function submit(name: string, targets: string): Promise<string> {
  const response = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets, name }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as Task).task_id;
}

async function task(id: string): Promise<Task> {
  return (await (await system.api(`/api/v1/tasks/${id}`)).json()) as Task;
}

async function finished(id: string): Promise<Task> {
  return eventually(
    async () => {
      const t = await task(id);
      return ['completed', 'failed', 'timeout', 'cancelled'].includes(t.status) ? t : undefined;
    },
    90000,
    `task ${id} to finish`,
    300,
  );
}

/** Worker log lines about this task's failed steps (one per try). */
function failedTries(taskId: string): number {
  return system
    .logs()
    .split('\n')
    .filter((line) => line.includes(taskId) && line.includes('scan step failed')).length;
}

/** What a user reading the results gets: REST and MCP must both refuse, with no JSON-NL lines. */
async function expectNoResults(taskId: string): Promise<void> {
  const rest = await system.api(`/api/v1/tasks/${taskId}/results?page=0`);
  expect(rest.status).toBe(409);
  expect(rest.headers.get('content-type')).toContain('application/json');
  const body = await rest.text();
  expect(JSON.parse(body)).toMatchObject({ error: { code: 'not_ready', message: expect.stringContaining('failed') } });
  expect(body).not.toContain('"type":"vulnerability"');

  const agent = await system.mcp();
  try {
    const result = await agent.callTool({ name: 'get_scan_results', arguments: { task_id: taskId, page: 0 } });
    expect(result.isError).toBe(true);
    expect(JSON.parse(toolText(result))).toMatchObject({ error: { code: 'not_ready' } });
  } finally {
    await agent.close();
  }
}

describe('faults between the export and the results', () => {
  it('a full disk while the worker writes the results fails the task, naming the disk space, with no half result', async () => {
    // 16 hosts: a ~5 MB export, which fits, and ~6 MB of result store, which does not.
    const tasksDir = mountSmallTasksDisk('6m');
    try {
      const id = await submit('disk full on ingest', '10.90.0.1-16');
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/space|disk/i);
      expect(done.error?.message).not.toMatch(/Nessus instance .* could not be reached|Could not reach/i);
      expect(done.results_summary ?? null).toBeNull();
      await expectNoResults(id);
      // The half-built store was removed: nothing but the raw export is left in the task directory.
      const taskDir = join(tasksDir, id);
      expect(existsSync(join(taskDir, 'report.nessus'))).toBe(true); // the download fitted: ingest is what failed
      expect(existsSync(join(taskDir, 'results'))).toBe(false);
      expect(readdirSync(taskDir).filter((name) => name !== 'report.nessus')).toEqual([]);
    } finally {
      unmount(tasksDir);
      mounts.splice(mounts.indexOf(tasksDir), 1);
    }
    // With the space back, the same system scans and ingests normally.
    const after = await finished(await submit('after the disk was freed', '10.90.1.1'));
    expect(after.status).toBe('completed');
  }, 150000);

  it('a disk too full for the download itself fails the task naming the disk space, not the scanner', async () => {
    const tasksDir = mountSmallTasksDisk('256k');
    try {
      const id = await submit('disk full on download', '10.90.2.1-16');
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/space|disk/i);
      expect(done.error?.message).not.toMatch(/Could not reach/i);
      await expectNoResults(id);
      expect(readdirSync(join(tasksDir, id))).toEqual([]);
    } finally {
      unmount(tasksDir);
      mounts.splice(mounts.indexOf(tasksDir), 1);
    }
  }, 150000);

  it('an export cut off mid-download is retried, then fails with a clear reason and no results', async () => {
    await system.setFaults({ download_mode: 'truncated' });
    try {
      const id = await submit('truncated export', '10.90.3.1-4');
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/export download .* (broke off|ended) after \d+ of \d+ bytes/);
      expect(failedTries(id)).toBe(ATTEMPTS);
      await expectNoResults(id);
    } finally {
      await system.setFaults({ download_mode: 'ok' });
    }
  }, 150000);

  it('an export that is not well-formed XML fails at once with a clear reason and no results', async () => {
    const ok = await finished(await submit('through the proxy', '10.90.4.1'));
    expect(ok.status).toBe('completed');

    proxy.corruptExports = true;
    try {
      const id = await submit('malformed export', '10.90.4.2-3');
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/not a well-formed \.nessus document/);
      expect(done.error?.message).toMatch(/line \d+/);
      expect(proxy.corruptedDownloads).toBe(1);
      // A parse error does not heal on a retry: one try, no second download.
      expect(failedTries(id)).toBe(1);
      await expectNoResults(id);
    } finally {
      proxy.corruptExports = false;
    }
  }, 150000);
});
