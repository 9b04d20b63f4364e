import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@nessus-mcp/embedded-redis';
import { ARTIFACTS, REPO_ROOT, eventually } from './system-under-test.js';

/** Every pid in the process tree under `pid`, from /proc (children first found by ppid). */
function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')) {
    const [child, parent] = entry.trim().split(/\s+/).map(Number) as [number, number];
    byParent.set(parent, [...(byParent.get(parent) ?? []), child]);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

/** `interrupt`: SIGINT to the whole process group, as a terminal's Ctrl-C does; otherwise SIGTERM to the process. */
async function startAndStop(cwd: string, command: string, args: string[], label: string, interrupt = false): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `nmcp-${label}-`));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const [gatewayPort, workerPort, simPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(gatewayPort),
    WORKER_METRICS_PORT: String(workerPort),
    NESSUS_SIM_PORT: String(simPort),
    REDIS_URL: '',
    AUTH_TOKEN: '',
    CREDENTIALS_KEY: '',
  };
  let output = '';
  const child: ChildProcess = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: interrupt });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      // Keep what it printed for whoever has to find out why a start-up failed.
      mkdirSync(join(ARTIFACTS, 'logs'), { recursive: true });
      writeFileSync(join(ARTIFACTS, 'logs', `quick-start-${label}.log`), output);
      resolve(code);
    }),
  );
  cleanups.push(() => child.kill('SIGKILL'));

  const outcome = await eventually(
    async () => (output.includes('nessus-mcp is running') ? 'running' : child.exitCode !== null ? 'exited' : undefined),
    600000,
    `${label} to start`,
    500,
  );
  if (outcome === 'exited') throw new Error(`${label} exited with ${child.exitCode} before the system ran; its output ends:\n${output.slice(-3000)}`);
  const token = readFileSync(join(dataDir, 'auth-token'), 'utf8').trim();
  expect(output).toContain(token);
  expect(output).toContain(`http://127.0.0.1:${gatewayPort}/docs`);
  expect((await fetch(`http://127.0.0.1:${gatewayPort}/health`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${gatewayPort}/ready`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${workerPort}/health`)).status).toBe(200);
  expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

  const tree = descendants(child.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(4);
  if (interrupt) {
    process.kill(-child.pid!, 'SIGINT');
    await exited;
  } else {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  await eventually(async () => tree.every((pid) => !alive(pid)), 30000, 'every child to exit');
}

describe('the quick start', () => {
  it('the supervisor runs Redis, the simulator, the worker and the gateway, and SIGTERM leaves no process behind', async () => {
    await startAndStop(REPO_ROOT, process.execPath, [join(REPO_ROOT, 'apps/supervisor/dist/main.js')], 'supervisor');
  }, 120000);

  it('the README quick start (`npm start`) from a fresh clone installs, builds and serves; Ctrl-C leaves no process behind', async () => {
    const clone = mkdtempSync(join(tmpdir(), 'nmcp-clone-'));
    cleanups.push(() => rmSync(clone, { recursive: true, force: true }));
    execFileSync('git', ['clone', '--quiet', REPO_ROOT, clone]);
    // The README's quick start is exactly two commands: run the first one as a newcomer would.
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm start', 'npm test']);
    const [command, ...args] = commands[0]!.split(' ') as [string, ...string[]];
    await startAndStop(clone, command, args, 'fresh-clone', true);
    // The contract's parser command works in the fresh clone too.
    const fixture = join(clone, 'packages/nessus-parser/test/fixtures/savon-noir_python-libnessus__nessus_report_local_3.nessus');
    const summary = JSON.parse(execFileSync('npx', ['--no-install', 'nessus-parse', '--summary', fixture], { cwd: clone, encoding: 'utf8' })) as {
      hosts: number;
      findings: number;
    };
    expect(summary).toMatchObject({ hosts: 3, findings: 106 });
    // The clone's build (not a checked-in dist) must leave each command runnable through npx.
    for (const name of ['nessus-mcp', 'nessus-sim', 'nessus-parse']) {
      expect(execFileSync('npx', ['--no-install', name, '--help'], { cwd: clone, encoding: 'utf8' })).toMatch(/usage/i);
    }
  }, 900000);
});
