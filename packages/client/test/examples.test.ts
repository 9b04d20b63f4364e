import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startScriptedGateway, TOKEN } from './support/scripted-gateway.js';
import type { ScriptedGateway } from './support/scripted-gateway.js';
import { runNode } from './support/run-node.js';

let gateway: ScriptedGateway;

beforeAll(async () => {
  gateway = await startScriptedGateway();
});

afterAll(async () => {
  await gateway.close();
});

function example(name: string, env: Record<string, string> = {}) {
  return runNode(`examples/${name}.mjs`, [], { NESSUS_MCP_URL: gateway.url, AUTH_TOKEN: TOKEN, POLL_INTERVAL_MS: '5', ...env });
}

describe('examples', () => {
  it('basic submits a scan of 127.0.0.1 and reads its status', async () => {
    const run = await example('basic');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^submitted ne_scan_\S+: queued on nessus\/scan1/);
    expect(run.stdout).toContain('status: queued');
    expect(gateway.calls.filter((c) => c.tool === 'run_untrusted_scan').at(-1)?.args.targets).toBe('127.0.0.1');
  });

  it('wait reports each status through the progress callback', async () => {
    const run = await example('wait', { TARGETS: '10.1.1.1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  queued\n  running 10%\n  running 60%\n  completed\n');
    expect(run.stdout).toContain('completed: 45 findings on 3 host(s)');
  });

  it('scan-and-wait prints the severity summary', async () => {
    const run = await example('scan-and-wait');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('critical 11  high 11  medium 11  low 12  info 12');
  });

  it('criticals lists only severity-4 findings, or those above MIN_SEVERITY', async () => {
    const run = await example('criticals');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/: 11 finding\(s\) of severity >= 4\n/);
    const taskId = /^(\S+):/.exec(run.stdout)?.[1] ?? '';
    const high = await example('criticals', { TASK_ID: taskId, MIN_SEVERITY: '3' });
    expect(high.code).toBe(0);
    expect(high.stdout).toContain(`${taskId}: 22 finding(s) of severity >= 3`);
  });

  it('full-workflow runs a trusted scan through paging, summary and the task list', async () => {
    const run = await example('full-workflow', { SSH_USERNAME: 'audit', SSH_PASSWORD: 'pw' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('scanners: nessus/scan1');
    expect(run.stdout).toContain('SSH authentication: success');
    expect(run.stdout).toContain('page 5/5: 5 finding(s)');
    expect(run.stdout).toContain('45 finding(s) of severity >= 1');
    expect(run.stdout).toContain('found in the task list');
    expect(gateway.calls.filter((c) => c.tool === 'run_trusted_scan').at(-1)?.args).toMatchObject({ ssh_username: 'audit', ssh_password: 'pw' });
  });

  it('exits 1 with a one-line error when the token is wrong', async () => {
    const run = await example('basic', { AUTH_TOKEN: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^basic: unauthorized: .*AUTH_TOKEN.*\n$/);
  });
});
