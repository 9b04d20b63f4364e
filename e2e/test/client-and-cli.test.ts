import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SystemUnderTest, eventually, runCommand, type CommandResult } from './system-under-test.js';

/*
 * What a script author and a human at a terminal meet: the runnable examples of
 * `@nessus-mcp/client` and the `nessus-mcp` CLI, run as separate `node` processes against the
 * live system exactly as their READMEs say.
 */

interface Status {
  task_id: string;
  status: string;
  error?: { code: string; message: string } | null;
  results_summary?: { hosts_scanned: number; total_vulnerabilities: number; severity_breakdown: Record<string, number> };
}

interface JsonPage {
  schema: { type: 'schema'; total_vulnerabilities: number; filters_applied: Record<string, unknown> };
  metadata: { task_id: string };
  vulnerabilities: Array<{ severity: number; host: string; plugin_id: number }>;
  pagination: { page: number; total_pages: number } | null;
}

const TASK_ID = /ne_scan_\d{8}_\d{6}_[0-9a-f]{8}/;

let system: SystemUnderTest;

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'client-and-cli', scanSeconds: 2 });
}, 90000);

afterAll(async () => {
  await system?.stop();
});

/** The environment the examples' README documents, pointed at this system. */
function clientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NESSUS_MCP_URL: _url, AUTH_TOKEN: _token, TARGETS: _targets, TASK_ID: _task, ...inherited } = process.env;
  return {
    ...inherited,
    NESSUS_MCP_URL: `${system.gatewayUrl}/mcp`,
    AUTH_TOKEN: system.token,
    POLL_INTERVAL_MS: '300',
    WAIT_TIMEOUT_MS: '60000',
    ...extra,
  };
}

async function example(name: string, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return runCommand(process.execPath, [`packages/client/examples/${name}.mjs`], { env: clientEnv(env), timeoutMs: 90000 });
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  // stdin, stdout and stderr are pipes here: the CLI must behave as it does in CI logs.
  return runCommand(process.execPath, ['packages/client/dist/cli.js', ...args], { env: clientEnv(env), timeoutMs: 90000 });
}

function ok(run: CommandResult): CommandResult {
  if (run.code !== 0) throw new Error(`exited ${run.code ?? run.signal}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

async function restStatus(taskId: string): Promise<Status> {
  return (await (await system.api(`/api/v1/tasks/${taskId}`)).json()) as Status;
}

async function restFindings(taskId: string): Promise<Array<{ severity: number }>> {
  const text = await (await system.api(`/api/v1/tasks/${taskId}/results?page=0&schema_profile=minimal`)).text();
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { type: string; severity: number })
    .filter((line) => line.type === 'vulnerability');
}

describe('the client library examples against the live gateway', () => {
  it('basic.mjs submits a scan and prints its task id and status', async () => {
    const run = ok(await example('basic', { TARGETS: '10.80.0.1' }));
    expect(run.stdout).toMatch(new RegExp(`^submitted ${TASK_ID.source}: queued on nessus/scanner1 \\(queue position \\d+, ~\\d+ min\\)$`, 'm'));
    expect(run.stdout).toMatch(/^status: (queued|running)/m);
    const taskId = TASK_ID.exec(run.stdout)![0];
    expect((await restStatus(taskId)).status).toMatch(/queued|running|completed/);
  }, 60000);

  it('wait.mjs reports progress and the completed scan', async () => {
    const run = ok(await example('wait', { TARGETS: '10.80.0.2' }));
    expect(run.stdout).toMatch(new RegExp(`^submitted ${TASK_ID.source}$`, 'm'));
    expect(run.stdout).toMatch(/^ {2}completed/m);
    expect(run.stdout).toMatch(/^completed: \d+ findings on 1 host\(s\)$/m);
  }, 90000);

  it('scan-and-wait.mjs prints the severity summary of the finished scan', async () => {
    const run = ok(await example('scan-and-wait', { TARGETS: '10.80.0.3-4' }));
    const [, taskId, total] = new RegExp(`^(${TASK_ID.source}): 2 host\\(s\\), (\\d+) findings$`, 'm').exec(run.stdout) ?? [];
    expect(taskId).toBeDefined();
    expect(run.stdout).toMatch(/^ {2}critical \d+ {2}high \d+ {2}medium \d+ {2}low \d+ {2}info \d+$/m);
    const status = await restStatus(taskId!);
    expect(status.status).toBe('completed');
    expect(Number(total)).toBe(status.results_summary?.total_vulnerabilities);
  }, 90000);

  it('criticals.mjs lists exactly the findings at or above MIN_SEVERITY of an existing task, most severe first', async () => {
    const scanned = ok(await example('scan-and-wait', { TARGETS: '10.80.0.5-7' }));
    const taskId = TASK_ID.exec(scanned.stdout)![0];
    const expected = (await restFindings(taskId)).filter((f) => f.severity >= 3).length;
    expect(expected).toBeGreaterThan(0);

    const run = ok(await example('criticals', { TASK_ID: taskId, MIN_SEVERITY: '3' }));
    expect(run.stdout).toContain(`${taskId}: ${expected} finding(s) of severity >= 3`);
    const severities = [...run.stdout.matchAll(/^ {2}\[(\d)\] /gm)].map((m) => Number(m[1]));
    expect(severities).toHaveLength(expected);
    expect(severities).toEqual([...severities].sort((a, b) => b - a));
    expect(severities.every((s) => s >= 3)).toBe(true);
  }, 90000);

  it('criticals.mjs without TASK_ID scans first, then lists the criticals', async () => {
    const run = ok(await example('criticals', { TARGETS: '10.80.0.8-9' }));
    expect(run.stdout).toMatch(new RegExp(`^${TASK_ID.source}: \\d+ finding\\(s\\) of severity >= 4$`, 'm'));
  }, 90000);

  it("full-workflow.mjs runs a trusted scan with the simulator's SSH login through every step", async () => {
    const run = ok(await example('full-workflow', { TARGETS: '10.80.0.10', SSH_USERNAME: 'scan', SSH_PASSWORD: 'scan-password' }));
    expect(run.stdout).toContain('scanners: nessus/scanner1');
    expect(run.stdout).toContain('SSH authentication: success');
    expect(run.stdout).toMatch(/^ {2}page 1\/\d+: \d+ finding\(s\)$/m);
    expect(run.stdout).toMatch(/^\d+ finding\(s\) of severity >= 1$/m);
    expect(run.stdout).toMatch(/^summary: 1 host\(s\), \d+ findings, \{.*"critical":\d+/m);
    expect(run.stdout).toContain('found in the task list');
  }, 90000);

  it('an example given a wrong token exits 1 with one line naming the code', async () => {
    const run = await example('basic', { TARGETS: '10.80.0.11', AUTH_TOKEN: 'wrong-token-0123456789abcdef' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^basic: unauthorized: .+$/);
    expect(run.stdout).toBe('');
  });
});

describe('the nessus-mcp CLI against the live gateway', () => {
  let taskId: string;

  it('scan --wait shows plain progress lines on a non-terminal stderr and ends with the completed status', async () => {
    const run = ok(await cli(['scan', '10.81.0.1-2', '--name', 'cli scan', '--wait', '--interval', '0.3']));
    taskId = TASK_ID.exec(run.stderr)![0];
    expect(run.stderr).toMatch(new RegExp(`^Task ${taskId} queued on nessus/scanner1`, 'm'));
    // Not a terminal: one line per change, no carriage returns or ANSI codes.
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain('\u001b[');
    expect(run.stderr).toMatch(new RegExp(`^${taskId}: completed 100%$`, 'm'));
    expect(run.stdout).toMatch(/^Status: +completed$/m);
    expect(run.stdout).toMatch(/^Hosts scanned: +2$/m);
    expect(run.stdout).toMatch(/^SEVERITY +IN SCAN$/m);
  }, 90000);

  it('status prints the task and --json the same status object the gateway holds', async () => {
    const text = ok(await cli(['status', taskId]));
    expect(text.stdout).toMatch(new RegExp(`^Task: +${taskId}$`, 'm'));
    expect(text.stdout).toMatch(/^Status: +completed$/m);
    expect(text.stdout).toMatch(/^Name: +cli scan$/m);

    const json = JSON.parse(ok(await cli(['status', taskId, '--json'])).stdout) as Status;
    const rest = await restStatus(taskId);
    expect(json).toMatchObject({ task_id: taskId, status: 'completed', results_summary: rest.results_summary });
  }, 60000);

  it('results prints the severity table and a page of findings; --json --all matches the REST results', async () => {
    const all = await restFindings(taskId);
    const text = ok(await cli(['results', taskId, '--page-size', '10']));
    expect(text.stdout).toContain(`Scan cli scan (${taskId}): ${all.length} matching finding(s)`);
    expect(text.stdout).toMatch(/^SEVERITY +IN SCAN +LISTED$/m);
    for (const name of ['critical', 'high', 'medium', 'low', 'info']) expect(text.stdout).toMatch(new RegExp(`^${name} +\\d+ +\\d+$`, 'm'));
    expect(text.stdout).toMatch(/^total +\d+ +10$/m);
    expect(text.stdout).toMatch(/^SEVERITY +HOST +PORT +PLUGIN +NAME/m);
    expect(text.stdout).toMatch(new RegExp(`^Page 1 of ${Math.ceil(all.length / 10)} — next: nessus-mcp results ${taskId} --page 2$`, 'm'));

    const page = JSON.parse(ok(await cli(['results', taskId, '--all', '--json'])).stdout) as JsonPage;
    expect(page.metadata.task_id).toBe(taskId);
    expect(page.vulnerabilities).toHaveLength(all.length);
    expect(page.schema.total_vulnerabilities).toBe(all.length);

    const high = JSON.parse(ok(await cli(['results', taskId, '--all', '--json', '--filter', 'severity=>=3', '--sort', 'severity'])).stdout) as JsonPage;
    expect(high.vulnerabilities).toHaveLength(all.filter((f) => f.severity >= 3).length);
    expect(high.vulnerabilities.every((f) => f.severity >= 3)).toBe(true);
    expect(high.schema.filters_applied).toHaveProperty('severity');
  }, 60000);

  it('tasks lists the scan, as a table and as JSON filtered by status', async () => {
    const table = ok(await cli(['tasks', '--limit', '50']));
    expect(table.stdout).toMatch(/^TASK ID +STATUS +TYPE +NAME +TARGETS +CREATED$/m);
    expect(table.stdout).toMatch(new RegExp(`^${taskId} +completed +untrusted +cli scan `, 'm'));

    const json = JSON.parse(ok(await cli(['tasks', '--status', 'completed', '--json'])).stdout) as { tasks: Status[] };
    expect(json.tasks.map((t) => t.task_id)).toContain(taskId);
    expect(json.tasks.every((t) => t.status === 'completed')).toBe(true);
  }, 60000);

  it('cancel stops a long scan on the scanner; cancelling it again is refused with exit 1', async () => {
    await system.setFaults({ scan_seconds: 300 });
    try {
      const submitted = JSON.parse(ok(await cli(['scan', '10.81.1.1', '--name', 'cli long scan', '--json'])).stdout) as { task_id: string };
      await eventually(async () => (await restStatus(submitted.task_id)).status === 'running', 30000, 'the long scan to run');

      const cancel = ok(await cli(['cancel', submitted.task_id]));
      expect(cancel.stdout).toMatch(new RegExp(`^Task ${submitted.task_id}: (running|cancelled)`));
      await eventually(async () => (await restStatus(submitted.task_id)).status === 'cancelled', 30000, 'the task to be cancelled');
      const stats = await system.simStats();
      const scan = Object.entries(stats.by_name).find(([name]) => name.includes(submitted.task_id));
      expect(scan?.[1].stopped).toBe(1);

      const again = await cli(['cancel', submitted.task_id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^nessus-mcp: error: .+ \[conflict\]/m);
    } finally {
      await system.setFaults({ scan_seconds: 2 });
    }
  }, 90000);

  it('status --wait of a cancelled task exits 1 and says how it ended', async () => {
    const { tasks } = JSON.parse(ok(await cli(['tasks', '--status', 'cancelled', '--json'])).stdout) as { tasks: Status[] };
    const cancelled = tasks[0]!.task_id;
    const run = await cli(['status', cancelled, '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Status: +cancelled$/m);
    expect(run.stderr).toContain(`nessus-mcp: scan ${cancelled} ended cancelled`);
  }, 60000);

  it('answers mistakes with exit codes a script can rely on: 1 for an unknown task, 2 for bad usage', async () => {
    const unknown = await cli(['status', 'ne_scan_20200101_000000_deadbeef']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/\[not_found\]/);

    const unknownJson = await cli(['status', 'ne_scan_20200101_000000_deadbeef', '--json']);
    expect(unknownJson.code).toBe(1);
    expect(JSON.parse(unknownJson.stdout)).toMatchObject({ error: { code: 'not_found' } });

    const usage = await cli(['scan', '10.81.2.1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('missing --name');

    const noPasswordOnCommandLine = await cli(['scan', '10.81.2.1', '--name', 'x', '--ssh-user', 'scan', '--ssh-password', 'scan-password']);
    expect(noPasswordOnCommandLine.code).toBe(2);
    expect(noPasswordOnCommandLine.stderr).toContain('--ssh-password is not accepted');
  }, 60000);

  it('a trusted scan with the password from an environment variable completes with SSH authentication success', async () => {
    const run = ok(
      await cli(
        ['scan', '10.81.3.1', '--name', 'cli trusted', '--ssh-user', 'scan', '--ssh-password-env', 'E2E_SSH_PW', '--wait', '--interval', '0.3', '--json'],
        { E2E_SSH_PW: 'scan-password' },
      ),
    );
    const { status } = JSON.parse(run.stdout) as { status: Status & { authentication_status?: string } };
    expect(status.status).toBe('completed');
    expect(status.authentication_status).toBe('success');
  }, 90000);
});
