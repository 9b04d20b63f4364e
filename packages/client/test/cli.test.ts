import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FINDINGS, startScriptedGateway, TOKEN } from './support/scripted-gateway.js';
import type { ScriptedGateway } from './support/scripted-gateway.js';
import { runNode } from './support/run-node.js';
import type { NodeRun } from './support/run-node.js';

let gateway: ScriptedGateway;
let completedTask: string;

beforeAll(async () => {
  gateway = await startScriptedGateway();
  completedTask = gateway.addTask('already-done');
});

afterAll(async () => {
  await gateway.close();
});

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<NodeRun> {
  return runNode('dist/cli.js', args, { NESSUS_MCP_URL: gateway.url, AUTH_TOKEN: TOKEN, ...env });
}

function lastCall(tool: string): Record<string, unknown> | undefined {
  return gateway.calls.filter((c) => c.tool === tool).at(-1)?.args;
}

describe('nessus-mcp results', () => {
  it('prints a severity table beside the listed findings and points to the next page', async () => {
    const run = await cli(['results', completedTask]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`Scan already-done (${completedTask}): 57 matching finding(s)`);
    // Whole scan 11 critical; page 1 holds findings 0..39, of which 8 are critical.
    expect(lines.find((l) => l.startsWith('critical'))).toMatch(/^critical\s+11\s+8$/);
    expect(lines.find((l) => l.startsWith('total'))).toMatch(/^total\s+57\s+40$/);
    expect(run.stdout).toContain('Plugin number 39');
    expect(run.stdout).not.toContain('Plugin number 40');
    expect(run.stdout).toContain(`Page 1 of 2 — next: nessus-mcp results ${completedTask} --page 2`);
  });

  it('prints a page as JSON for scripts', async () => {
    const run = await cli(['results', completedTask, '--page', '2', '--page-size', '20', '--profile', 'minimal', '--json']);
    expect(run.code).toBe(0);
    const page = JSON.parse(run.stdout) as { schema: { profile: string }; vulnerabilities: { finding_id: string }[]; pagination: { page: number } };
    expect(page.schema.profile).toBe('minimal');
    expect(page.vulnerabilities.map((v) => v.finding_id)).toEqual(FINDINGS.slice(20, 40).map((f) => f.finding_id));
    expect(page.pagination.page).toBe(2);
  });

  it('fetches every page with --all and sends typed filters', async () => {
    const run = await cli(['results', completedTask, '--all', '--json', '--filter', 'severity=>=3', '--filter', 'host=10.0.0.1', '--sort', 'severity']);
    expect(run.code).toBe(0);
    const page = JSON.parse(run.stdout) as { vulnerabilities: { severity: number; host: string }[]; pagination: unknown };
    const expected = FINDINGS.filter((f) => f.severity >= 3 && f.host === '10.0.0.1');
    expect(page.vulnerabilities).toHaveLength(expected.length);
    expect(page.vulnerabilities.every((v) => v.severity >= 3 && v.host === '10.0.0.1')).toBe(true);
    expect(page.pagination).toBeNull();
    expect(lastCall('get_scan_results')).toMatchObject({ filters: { severity: '>=3', host: '10.0.0.1' }, sort: 'severity', page_size: 100 });
  });

  it('sends numbers as numbers and a repeated filter key as a list', async () => {
    const run = await cli(['results', completedTask, '--json', '--filter', 'severity=4', '--filter', 'cve=CVE-1', '--filter', 'cve=CVE-2']);
    expect(run.code).toBe(0);
    expect(lastCall('get_scan_results')).toMatchObject({ filters: { severity: 4, cve: ['CVE-1', 'CVE-2'] } });
  });

  it('streams CSV from the REST mirror with --csv, sending the filters, sort and profile', async () => {
    const run = await cli(['results', completedTask, '--csv', '--filter', 'severity=>=3', '--sort', 'severity', '--profile', 'brief']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`finding_id,host,plugin_name\r\n${FINDINGS.map((f) => `${f.finding_id},${f.host},${f.plugin_name}\r\n`).join('')}`);
    expect(lastCall('GET results.csv')).toEqual({
      task_id: completedTask,
      filters: JSON.stringify({ severity: '>=3' }),
      sort: 'severity',
      schema_profile: 'brief',
    });
    const missing = await cli(['results', 'ne_scan_20990101_000000_deadbeef', '--csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[not_found]');
  });

  it('passes --cursor on and refuses it beside --page', async () => {
    const run = await cli(['results', completedTask, '--cursor', 'abc.def', '--json']);
    expect(run.code).toBe(0);
    expect(lastCall('get_scan_results')).toEqual({ task_id: completedTask, cursor: 'abc.def' });
    const both = await cli(['results', completedTask, '--cursor', 'abc.def', '--page', '2']);
    expect(both.code).toBe(2);
  });

  it('exits 1 with a one-line error for an unknown task, and the error body with --json', async () => {
    const run = await cli(['results', 'ne_scan_20260101_000000_00000bad']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('nessus-mcp: error: task ne_scan_20260101_000000_00000bad not found [not_found]\n');
    const json = await cli(['results', 'ne_scan_20260101_000000_00000bad', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'not_found', message: 'task ne_scan_20260101_000000_00000bad not found', details: { task_id: 'ne_scan_20260101_000000_00000bad' } },
    });
  });

  // Independent child processes: run side by side to keep the suite short.
  it.concurrent.each([
    [['results'], 'missing <task_id>'],
    [['results', 'x', '--page', '0'], '--page must be a whole number of at least 1'],
    [['results', 'x', '--page', '2', '--all'], 'either --page or --all'],
    [['results', 'x', '--filter', 'severity'], '--filter expects KEY=VALUE'],
    [['results', 'x', '--colour'], "Unknown option '--colour'"],
    [['results', 'x', '--sort', 'name'], '--sort must be one of'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('exits 2 on the usage error in %j', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });
});

describe('nessus-mcp scan', () => {
  it('refuses a password given as an argument, explaining why, without echoing it', async () => {
    const run = await cli(['scan', '10.0.0.1', '--name', 'x', '--ssh-user', 'u', '--ssh-password', 'hunter2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('shell history');
    expect(run.stderr).not.toContain('hunter2');
  });

  it('asks for --ssh-password-env or --ssh-key-file when it cannot prompt', async () => {
    const run = await cli(['scan', '10.0.0.1', '--name', 'x', '--ssh-user', 'u']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--ssh-password-env VAR or --ssh-key-file FILE');
  });

  it('submits an untrusted scan and prints the task id', async () => {
    const run = await cli(['scan', '10.0.0.1', '10.0.0.2,10.0.0.3', '--name', 'plain']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Task ne_scan_\S+ queued on nessus\/scan1, queue position \d+, about 1 min wait\n/);
    expect(lastCall('run_untrusted_scan')).toEqual({ targets: '10.0.0.1,10.0.0.2,10.0.0.3', name: 'plain' });
  });

  it('runs a trusted scan to completion with the password from the environment and plain progress lines', async () => {
    const run = await cli(['scan', '10.0.0.7', '--name', 'default', '--ssh-user', 'audit', '--ssh-password-env', 'LAB_PW', '--wait', '--interval', '0.01'], {
      LAB_PW: 'from-env',
    });
    expect(run.code).toBe(0);
    expect(lastCall('run_trusted_scan')).toMatchObject({ targets: '10.0.0.7', ssh_username: 'audit', ssh_password: 'from-env' });
    const taskId = /Task (\S+) queued/.exec(run.stderr)?.[1] ?? '';
    expect(run.stderr).toContain(`${taskId}: running 10%\n${taskId}: running 60%\n${taskId}: completed 100%\n`);
    expect(run.stderr).not.toContain('\r');
    expect(run.stdout).toContain('Status:         completed');
    expect(run.stdout).toContain('Authentication: success');
    expect(run.stdout).toMatch(/critical\s+11/);
  });

  it('sends --su-login as su_login for a su+sudo scan, and refuses it on an untrusted scan', async () => {
    const run = await cli(
      [
        'scan',
        '10.0.0.9',
        '--name',
        's',
        '--ssh-user',
        'audit',
        '--ssh-password-env',
        'CLI_TEST_SSH_PW',
        '--elevate',
        'su+sudo',
        '--su-login',
        'opsadmin',
        '--json',
      ],
      { CLI_TEST_SSH_PW: 'pw' },
    );
    expect(run.code).toBe(0);
    expect(lastCall('run_privileged_scan')).toMatchObject({ elevate_privileges_with: 'su+sudo', su_login: 'opsadmin' });
    const stray = await cli(['scan', '10.0.0.9', '--name', 's', '--su-login', 'opsadmin']);
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toContain('--su-login needs --type trusted or privileged');
  });

  it('sends the key file content for --ssh-key-file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nessus-mcp-cli-'));
    try {
      const keyFile = join(dir, 'id_ed25519');
      await writeFile(keyFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n');
      const run = await cli([
        'scan',
        '10.0.0.8',
        '--name',
        'k',
        '--type',
        'privileged',
        '--ssh-user',
        'audit',
        '--ssh-key-file',
        keyFile,
        '--elevate',
        'sudo',
        '--json',
      ]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'queued' });
      expect(lastCall('run_privileged_scan')).toMatchObject({ ssh_private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n', elevate_privileges_with: 'sudo' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when the waited-for scan fails, saying why', async () => {
    const run = await cli(['scan', '10.0.0.1', '--name', 'ends-failed', '--wait', '--interval', '0.01', '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { status: { status: string; error: { message: string } } };
    expect(result.status.status).toBe('failed');
    expect(result.status.error.message).toBe('the scanner aborted the scan');
  });
});

describe('nessus-mcp status, tasks, cancel', () => {
  it('shows a completed status with its severity table, and the object with --json', async () => {
    const run = await cli(['status', completedTask]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Task:           ${completedTask}`);
    expect(run.stdout).toContain('Hosts scanned:  3');
    expect(run.stdout).toMatch(/high\s+11/);
    const json = await cli(['status', completedTask, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ task_id: completedTask, status: 'completed', results_summary: { hosts_scanned: 3 } });
  });

  it('exits 1 after waiting on a task that ends cancelled', async () => {
    const taskId = gateway.addTask('ends-cancelled');
    const run = await cli(['status', taskId, '--wait', '--interval', '0.01']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`scan ${taskId} ended cancelled`);
  });

  it('lists tasks as a table and as JSON', async () => {
    const run = await cli(['tasks', '--status', 'completed', '--limit', '50']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^TASK ID\s+STATUS\s+TYPE\s+NAME\s+TARGETS\s+CREATED$/);
    expect(run.stdout).toContain(completedTask);
    expect(lastCall('list_tasks')).toEqual({ status: 'completed', limit: 50 });
    const json = await cli(['tasks', '--json']);
    expect((JSON.parse(json.stdout) as { tasks: unknown[] }).tasks.length).toBeGreaterThan(0);
  });

  it('cancels a running task and refuses to cancel a finished one', async () => {
    const running = gateway.addTask('never-ends');
    const run = await cli(['cancel', running]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Task ${running}: cancelled (Scan cancelled)\n`);
    const again = await cli(['cancel', completedTask]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[conflict]');
  });

  it('reports a wrong token as unauthorized', async () => {
    const run = await cli(['tasks'], { AUTH_TOKEN: 'nope' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[unauthorized]');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('help', () => {
  it.concurrent.each(['scan', 'status', 'results', 'tasks', 'cancel'])('prints usage for %s --help and exits 0', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: nessus-mcp ${command}`);
    expect(run.stdout).toContain('AUTH_TOKEN');
  });

  it('explains in scan --help why passwords are not accepted as arguments', async () => {
    const run = await cli(['scan', '--help']);
    expect(run.stdout).toContain('--ssh-password-env VAR');
    expect(run.stdout).toMatch(/shell\s+history/);
  });

  it('prints the overview with exit 2 when no command is given', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('nessus-mcp scan <targets...>');
  });
});

describe('nessus-mcp summary, finding and report', () => {
  it('prints finding counts per group with their risk, and the object with --json', async () => {
    const run = await cli(['summary', completedTask, '--by', 'host', '--filter', 'severity=>=3', '--top', '2']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`57 findings matching {"severity":">=3"} of task ${completedTask} by host, top 2 of 3 groups shown`);
    expect(run.stdout).toMatch(/10\.0\.0\.1\s+10\.0\.0\.1\s+19\s+1\s+critical\s+KEV 2021-11-03/);
    expect(lastCall('summarize_findings')).toEqual({ task_id: completedTask, group_by: 'host', filters: { severity: '>=3' }, top: 2 });
    const json = await cli(['summary', completedTask, '--by', 'plugin_id', '--json']);
    expect((JSON.parse(json.stdout) as { groups: unknown[] }).groups).toHaveLength(20);
  });

  it('refuses a summary without a valid --by', async () => {
    expect((await cli(['summary', completedTask])).code).toBe(2);
    expect((await cli(['summary', completedTask, '--by', 'colour'])).stderr).toContain('--by');
  });

  it('shows one finding in full, and not_found for an unknown id', async () => {
    const run = await cli(['finding', completedTask, 'f004']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^finding_id\s+f004$/m);
    expect(run.stdout).toMatch(/^severity\s+4 \(critical\)$/m);
    expect(run.stdout).toContain('plugin_output:\nOutput line');
    const missing = await cli(['finding', completedTask, 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[not_found]');
  });

  it('writes the HTML report to a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'report-'));
    try {
      const path = join(dir, 'r.html');
      const run = await cli(['report', completedTask, '--output', path, '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ task_id: completedTask, path, opened: false });
      expect(await readFile(path, 'utf8')).toContain('<svg id="severity-chart">');
      const missing = await cli(['report', 'ne_scan_20250101_000000_deadbeef', '--output', path]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('[not_found]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
