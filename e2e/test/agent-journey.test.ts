import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SystemUnderTest, eventually, toolJson, toolText } from './system-under-test.js';

interface Submitted {
  task_id: string;
  trace_id: string;
  status: string;
  scanner_pool: string;
  scanner_instance: string;
  queue_position: number;
  estimated_wait_minutes: number;
  message: string;
}

interface Status {
  task_id: string;
  status: string;
  progress?: number;
  results_summary?: { hosts_scanned: number; total_vulnerabilities: number; severity_breakdown: Record<string, number>; file_size_kb: number };
  authentication_status?: string;
}

let system: SystemUnderTest;
let agent: Client;

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'agent-journey', scanSeconds: 2 });
  agent = await system.mcp();
}, 90000);

afterAll(async () => {
  await agent?.close();
  await system?.stop();
});

async function call(name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await agent.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${toolText(result)}`);
  return result;
}

async function waitTerminal(taskId: string): Promise<Status> {
  return eventually(
    async () => {
      const status = toolJson<Status>(await call('get_scan_status', { task_id: taskId }));
      return ['completed', 'failed', 'timeout', 'cancelled'].includes(status.status) ? status : undefined;
    },
    60000,
    `task ${taskId} to finish`,
    300,
  );
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('an agent over MCP Streamable HTTP', () => {
  it('lists the contract tools', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'cancel_scan',
        'compare_scans',
        'get_finding',
        'get_queue_status',
        'get_scan_results',
        'get_scan_status',
        'list_scanners',
        'list_tasks',
        'run_privileged_scan',
        'run_trusted_scan',
        'run_untrusted_scan',
        'search_findings',
        'summarize_findings',
      ].sort(),
    );
  });

  it('runs an untrusted scan to completion and pages its findings with filters', async () => {
    const submitted = toolJson<Submitted>(await call('run_untrusted_scan', { targets: '192.168.50.1-3', name: 'e2e untrusted' }));
    expect(submitted).toMatchObject({ status: 'queued', scanner_pool: 'nessus', scanner_instance: 'scanner1' });
    expect(submitted.task_id).toMatch(/^ne_scan_\d{8}_\d{6}_[0-9a-f]{8}$/);

    const done = await waitTerminal(submitted.task_id);
    expect(done.status).toBe('completed');
    expect(done.results_summary?.hosts_scanned).toBe(3);
    expect(done.results_summary!.total_vulnerabilities).toBeGreaterThan(0);

    const all = jsonLines(toolText(await call('get_scan_results', { task_id: submitted.task_id, page: 0, schema_profile: 'minimal' })));
    expect(all[0]).toMatchObject({ type: 'schema', profile: 'minimal' });
    expect(all[1]).toMatchObject({ type: 'scan_metadata', task_id: submitted.task_id });
    const findings = all.filter((l) => l.type === 'vulnerability');
    expect(findings.length).toBe(all[0]!.total_vulnerabilities);
    expect(all.some((l) => l.type === 'pagination')).toBe(false);
    expect(new Set(findings.map((f) => f.host))).toEqual(new Set(['192.168.50.1', '192.168.50.2', '192.168.50.3']));

    const high = jsonLines(
      toolText(await call('get_scan_results', { task_id: submitted.task_id, page: 1, page_size: 10, filters: { severity: '>=3' }, sort: 'severity' })),
    );
    const highFindings = high.filter((l) => l.type === 'vulnerability');
    expect(highFindings.length).toBeGreaterThan(0);
    expect(highFindings.every((f) => (f.severity as number) >= 3)).toBe(true);
    expect(high.at(-1)).toMatchObject({ type: 'pagination', page: 1, page_size: 10 });
    const expectedHigh = findings.filter((f) => (f.severity as number) >= 3).length;
    expect(high[0]!.total_vulnerabilities).toBe(expectedHigh);
  }, 90000);

  it('runs a trusted scan with valid SSH credentials and reports authentication success', async () => {
    const submitted = toolJson<Submitted>(
      await call('run_trusted_scan', { targets: '10.20.0.5', name: 'e2e trusted', ssh_username: 'scan', ssh_password: 'scan-password' }),
    );
    const done = await waitTerminal(submitted.task_id);
    expect(done.status).toBe('completed');
    expect(done.authentication_status).toBe('success');
  }, 90000);

  it('a privileged scan whose SSH login fails ends failed with the reason, its partial results still readable', async () => {
    const submitted = toolJson<Submitted>(
      await call('run_privileged_scan', {
        targets: '10.20.0.6',
        name: 'e2e privileged',
        ssh_username: 'scan',
        ssh_password: 'wrong-password',
        elevate_privileges_with: 'sudo',
        escalation_password: 'sudo-secret-e2e',
      }),
    );
    const done = await waitTerminal(submitted.task_id);
    expect(done.status).toBe('failed');
    expect(done.authentication_status).toBe('failed');
    expect((done as Status & { error: { code: string; message: string } }).error).toMatchObject({
      code: 'authentication_failed',
      message: expect.stringMatching(/SSH login failed/),
    });
    expect(done.results_summary?.hosts_scanned).toBe(1);
    const lines = jsonLines(toolText(await call('get_scan_results', { task_id: submitted.task_id, page: 0, schema_profile: 'minimal' })));
    expect(lines.filter((l) => l.type === 'vulnerability').length).toBeGreaterThan(0);
  }, 90000);

  it('cancels a running scan and the simulator shows it stopped', async () => {
    await system.setFaults({ scan_seconds: 60 });
    try {
      const submitted = toolJson<Submitted>(await call('run_untrusted_scan', { targets: '10.30.0.1', name: 'e2e cancel me' }));
      await eventually(async () => toolJson<Status>(await call('get_scan_status', { task_id: submitted.task_id })).status === 'running', 30000, 'running');
      const cancelled = toolJson<Status>(await call('cancel_scan', { task_id: submitted.task_id }));
      expect(['running', 'cancelled']).toContain(cancelled.status);
      const done = await waitTerminal(submitted.task_id);
      expect(done.status).toBe('cancelled');
      const stats = await system.simStats();
      const entry = Object.entries(stats.by_name).find(([name]) => name.includes(submitted.task_id));
      expect(entry?.[1].stopped).toBe(1);
    } finally {
      await system.setFaults({ scan_seconds: 2 });
    }
  }, 90000);

  it('answers bad input with isError results carrying stable codes', async () => {
    const outOfScope = await agent.callTool({ name: 'run_untrusted_scan', arguments: { targets: '8.8.8.8', name: 'nope' } });
    expect(outOfScope.isError).toBe(true);
    expect(JSON.parse(toolText(outOfScope))).toMatchObject({ error: { code: 'out_of_scope' } });
    const unknown = await agent.callTool({ name: 'get_scan_status', arguments: { task_id: 'ne_scan_20200101_000000_deadbeef' } });
    expect(JSON.parse(toolText(unknown))).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('a human over the REST mirror', () => {
  it('submits with an Idempotency-Key, replays it, and downloads NDJSON results and the raw report', async () => {
    const body = JSON.stringify({ targets: '192.168.60.10', name: 'rest scan' });
    const first = await system.api('/api/v1/scans/untrusted', { method: 'POST', body, headers: { 'idempotency-key': 'e2e-rest-1' } });
    expect(first.status).toBe(202);
    const task = (await first.json()) as Submitted;
    const replay = (await (
      await system.api('/api/v1/scans/untrusted', { method: 'POST', body, headers: { 'idempotency-key': 'e2e-rest-1' } })
    ).json()) as Submitted;
    expect(replay.task_id).toBe(task.task_id);
    const conflict = await system.api('/api/v1/scans/untrusted', {
      method: 'POST',
      body: JSON.stringify({ targets: '192.168.60.11', name: 'rest scan' }),
      headers: { 'idempotency-key': 'e2e-rest-1' },
    });
    expect(conflict.status).toBe(409);

    await eventually(
      async () => ((await (await system.api(`/api/v1/tasks/${task.task_id}`)).json()) as Status).status === 'completed',
      60000,
      'REST task completion',
    );
    const results = await system.api(`/api/v1/tasks/${task.task_id}/results?page=0&filters=${encodeURIComponent(JSON.stringify({ severity: [3, 4] }))}`);
    expect(results.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = jsonLines(await results.text());
    expect(lines[0]).toMatchObject({ type: 'schema', filters_applied: { severity: expect.anything() } });
    const report = await system.api(`/api/v1/tasks/${task.task_id}/report.nessus`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-disposition')).toContain('.nessus');
    const xml = await report.text();
    expect(xml).toContain('<NessusClientData_v2');
    expect(xml).toContain('name="192.168.60.10"');
  }, 90000);

  it('rejects requests without the token with a JSON 401', async () => {
    for (const path of ['/api/v1/tasks', '/admin/queues', '/metrics']) {
      const response = await fetch(`${system.gatewayUrl}${path}`);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect((await fetch(`${system.gatewayUrl}/health`)).status).toBe(200);
  });
});
