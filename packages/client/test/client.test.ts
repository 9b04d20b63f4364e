import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NessusMcpClient, NessusMcpError } from '../src/index.js';
import type { ScanStatus } from '../src/index.js';
import { FINDINGS, startScriptedGateway, TOKEN } from './support/scripted-gateway.js';
import type { ScriptedGateway } from './support/scripted-gateway.js';

let gateway: ScriptedGateway;
let client: NessusMcpClient;
const fast = { pollIntervalMs: 1, maxPollIntervalMs: 5 };

beforeAll(async () => {
  gateway = await startScriptedGateway();
  client = await NessusMcpClient.connect({ url: gateway.url, token: TOKEN });
});

afterAll(async () => {
  await client.close();
  await gateway.close();
});

/** A loopback URL on which nothing listens (bound, then released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/mcp`;
}

async function caught(promise: Promise<unknown>): Promise<NessusMcpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof NessusMcpError) return error;
    throw error;
  }
  throw new Error('expected the call to reject');
}

describe('submitting scans', () => {
  it('returns the typed submission of an untrusted scan and sends snake_case arguments', async () => {
    const submission = await client.submitUntrustedScan({
      targets: ['10.0.0.1', ' 10.0.1.0/24 '],
      name: 'weekly',
      schemaProfile: 'summary',
      idempotencyKey: 'key-1',
      scannerPool: 'nessus',
    });
    expect(submission).toMatchObject({
      status: 'queued',
      scanner_pool: 'nessus',
      scanner_instance: 'scan1',
      estimated_wait_minutes: 1,
      message: 'Scan queued',
    });
    expect(submission.task_id).toMatch(/^ne_scan_/);
    expect(typeof submission.queue_position).toBe('number');
    expect(gateway.calls.at(-1)).toEqual({
      tool: 'run_untrusted_scan',
      args: { targets: '10.0.0.1,10.0.1.0/24', name: 'weekly', schema_profile: 'summary', idempotency_key: 'key-1', scanner_pool: 'nessus' },
    });
  });

  it('maps trusted and privileged parameters to the SSH and escalation arguments', async () => {
    await client.submitTrustedScan({ targets: '10.0.0.2', name: 'creds', sshUsername: 'audit', sshPassword: 'pw', sshPort: 2222 });
    expect(gateway.calls.at(-1)).toEqual({
      tool: 'run_trusted_scan',
      args: { targets: '10.0.0.2', name: 'creds', ssh_username: 'audit', ssh_password: 'pw', ssh_port: 2222 },
    });
    await client.submitPrivilegedScan({
      targets: '10.0.0.3',
      name: 'root',
      sshUsername: 'audit',
      sshPrivateKey: '-----BEGIN KEY-----',
      sshPrivateKeyPassphrase: 'pp',
      elevatePrivilegesWith: 'sudo',
      escalationPassword: 'sudo-pw',
    });
    expect(gateway.calls.at(-1)).toEqual({
      tool: 'run_privileged_scan',
      args: {
        targets: '10.0.0.3',
        name: 'root',
        ssh_username: 'audit',
        ssh_private_key: '-----BEGIN KEY-----',
        ssh_private_key_passphrase: 'pp',
        elevate_privileges_with: 'sudo',
        escalation_password: 'sudo-pw',
      },
    });
  });

  it('sends the su login of a su+sudo scan as su_login', async () => {
    await client.submitPrivilegedScan({
      targets: '10.0.0.4',
      name: 'su+sudo',
      sshUsername: 'audit',
      sshPassword: 'pw',
      elevatePrivilegesWith: 'su+sudo',
      suLogin: 'opsadmin',
      escalationPassword: 'su-pw',
    });
    expect(gateway.calls.at(-1)?.args).toMatchObject({ elevate_privileges_with: 'su+sudo', su_login: 'opsadmin', escalation_password: 'su-pw' });
  });

  it('reports a tool argument the server rejects as invalid_argument', async () => {
    const error = await caught(
      client.submitPrivilegedScan({ targets: 'x', name: 'n', sshUsername: 'u', sshPassword: 'p', elevatePrivilegesWith: 'runas' as 'sudo' }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('elevate_privileges_with');
  });
});

describe('status and waiting', () => {
  it('reads a status with progress while running and the results summary once completed', async () => {
    const taskId = gateway.addTask('default');
    // The gateway answers null authentication_status and results_summary until the scan completed.
    expect(await client.getStatus(taskId)).toMatchObject({ status: 'queued', authentication_status: null, results_summary: null });
    const running = await client.getStatus(taskId);
    expect(running).toMatchObject({ status: 'running', progress: 10 });
    await client.getStatus(taskId);
    const done = await client.getStatus(taskId);
    expect(done.status).toBe('completed');
    expect(done.results_summary).toMatchObject({ hosts_scanned: 3, total_vulnerabilities: 45, file_size_kb: 42 });
    expect(done.results_summary?.severity_breakdown).toEqual({ critical: 11, high: 11, medium: 11, low: 12, info: 12 });
  });

  it.each([
    ['default', 'completed'],
    ['ends-failed', 'failed'],
    ['ends-timeout', 'timeout'],
    ['ends-cancelled', 'cancelled'],
  ])('waits for a %s task until it is %s and returns that status', async (script, terminal) => {
    const taskId = gateway.addTask(script);
    const status = await client.waitForCompletion(taskId, fast);
    expect(status.status).toBe(terminal);
    expect(status.task_id).toBe(taskId);
  });

  it('calls onProgress with every status read, ending with the terminal one', async () => {
    const taskId = gateway.addTask('default');
    const seen: ScanStatus[] = [];
    await client.waitForCompletion(taskId, { ...fast, onProgress: (s) => seen.push(s) });
    expect(seen.map((s) => [s.status, s.progress ?? null])).toEqual([
      ['queued', null],
      ['running', 10],
      ['running', 60],
      ['completed', null],
    ]);
  });

  it('stops waiting with an aborted error when the signal fires, leaving the scan running', async () => {
    const taskId = gateway.addTask('never-ends');
    const controller = new AbortController();
    let reads = 0;
    const error = await caught(
      client.waitForCompletion(taskId, {
        ...fast,
        signal: controller.signal,
        onProgress: () => {
          reads += 1;
          if (reads === 3) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('aborted');
    expect(reads).toBe(3);
    expect((await client.getStatus(taskId)).status).toBe('running');
  });

  it('rejects at once when the signal was already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = gateway.calls.length;
    const error = await caught(client.waitForCompletion(gateway.addTask('default'), { signal: controller.signal }));
    expect(error.code).toBe('aborted');
    expect(gateway.calls.length).toBe(before);
  });

  it('gives up with deadline_exceeded after its own timeout, naming the last status', async () => {
    const taskId = gateway.addTask('never-ends');
    const error = await caught(client.waitForCompletion(taskId, { pollIntervalMs: 5, timeoutMs: 30 }));
    expect(error.code).toBe('deadline_exceeded');
    expect(error.details).toMatchObject({ task_id: taskId, status: 'running', progress: 50 });
  });

  it('submits and waits in one call with scanAndWait', async () => {
    const outcome = await client.scanAndWait({ type: 'trusted', targets: '10.0.0.9', name: 'default', sshUsername: 'u', sshPassword: 'p' }, fast);
    expect(outcome.submission.status).toBe('queued');
    expect(outcome.status).toMatchObject({ task_id: outcome.submission.task_id, status: 'completed', authentication_status: 'success' });
    expect(gateway.calls.find((c) => c.tool === 'run_trusted_scan' && c.args.targets === '10.0.0.9')).toBeDefined();
  });
});

describe('results', () => {
  let taskId: string;
  beforeAll(() => {
    taskId = gateway.addTask('already-done');
  });

  it('parses a page into schema, metadata, findings and pagination', async () => {
    const page = await client.getResults(taskId, { page: 2, pageSize: 20, profile: 'minimal' });
    expect(page.schema).toMatchObject({ type: 'schema', profile: 'minimal', total_vulnerabilities: 57, total_pages: 3 });
    expect(page.metadata).toMatchObject({ type: 'scan_metadata', task_id: taskId, hosts_scanned: 3 });
    expect(page.vulnerabilities.map((v) => v.finding_id)).toEqual(FINDINGS.slice(20, 40).map((f) => f.finding_id));
    expect(page.pagination).toEqual({ type: 'pagination', page: 2, page_size: 20, total_pages: 3, has_next: true, next_page: 3 });
  });

  it('returns every finding without a pagination line for page 0', async () => {
    const all = await client.getResults(taskId, { page: 0 });
    expect(all.pagination).toBeNull();
    expect(all.vulnerabilities).toHaveLength(57);
  });

  it('iterates every page so the concatenation equals page 0, with filters and sort applied', async () => {
    const query = { pageSize: 10, filters: { severity: '>=2' }, sort: 'severity' } as const;
    const pages = [];
    for await (const page of client.iteratePages(taskId, query)) pages.push(page);
    const all = await client.getResults(taskId, { ...query, page: 0 });
    expect(pages.length).toBe(4);
    expect(pages.flatMap((p) => p.vulnerabilities)).toEqual(all.vulnerabilities);
    const findings = [];
    for await (const finding of client.iterateResults(taskId, query)) findings.push(finding);
    expect(findings).toEqual(all.vulnerabilities);
    expect(gateway.calls.at(-1)?.args).toMatchObject({ filters: { severity: '>=2' }, sort: 'severity', page_size: 10 });
  });

  it('collects the critical findings, or those at or above a given severity', async () => {
    const critical = await client.getCriticalVulnerabilities(taskId);
    expect(critical).toHaveLength(11);
    expect(critical.every((v) => v.severity === 4)).toBe(true);
    const highAndUp = await client.getCriticalVulnerabilities(taskId, { minSeverity: 3 });
    expect(highAndUp).toHaveLength(22);
    expect(highAndUp.map((v) => v.severity)).toEqual([...highAndUp.map((v) => v.severity)].sort((a, b) => (b ?? 0) - (a ?? 0)));
  });

  it('summarises a completed scan by severity', async () => {
    expect(await client.getVulnerabilitySummary(taskId)).toEqual({
      task_id: taskId,
      scan_name: 'already-done',
      hosts_scanned: 3,
      total_vulnerabilities: 45,
      severity_breakdown: { critical: 11, high: 11, medium: 11, low: 12, info: 12 },
      authentication_status: null,
      file_size_kb: 42,
    });
  });

  it('refuses a summary with not_ready while the scan runs', async () => {
    const error = await caught(client.getVulnerabilitySummary(gateway.addTask('never-ends')));
    expect(error.code).toBe('not_ready');
    expect(error.details).toMatchObject({ status: 'queued' });
  });

  it('names the line of malformed JSON-NL', async () => {
    gateway.rawResults = '{"type":"schema","profile":"brief","fields":"all","filters_applied":{},"total_vulnerabilities":1,"total_pages":1}\n\n{oops\n';
    try {
      const error = await caught(client.getResults(taskId));
      expect(error.code).toBe('invalid_response');
      expect(error.message).toContain('line 3');
    } finally {
      gateway.rawResults = null;
    }
  });
});

describe('tasks, scanners, queue, cancel', () => {
  it('lists tasks filtered by status', async () => {
    const done = gateway.addTask('already-done');
    await client.getStatus(done);
    const list = await client.listTasks({ status: 'completed', limit: 100 });
    expect(list.tasks.length).toBeGreaterThan(0);
    expect(list.tasks.every((t) => t.status === 'completed')).toBe(true);
    expect(list.tasks.map((t) => t.task_id)).toContain(done);
    expect(gateway.calls.at(-1)).toEqual({ tool: 'list_tasks', args: { status: 'completed', limit: 100 } });
  });

  it('lists scanners and reads the queue of a pool', async () => {
    const { pools } = await client.listScanners();
    expect(pools[0]).toMatchObject({ name: 'nessus', instances: [{ instance_id: 'scan1', enabled: true, healthy: true }] });
    const queue = await client.getQueueStatus('nessus');
    expect(queue).toMatchObject({
      totals: { active: 1, failed: 0 },
      pools: [{ scanner_pool: 'nessus', queue: 'scans-nessus', paused: false }],
      dead_letter_count: 0,
    });
  });

  it('cancels a running task, which then waits out as cancelled', async () => {
    const taskId = gateway.addTask('never-ends');
    expect(await client.cancel(taskId)).toMatchObject({ task_id: taskId, status: 'cancelled' });
    expect((await client.waitForCompletion(taskId, fast)).status).toBe('cancelled');
  });
});

describe('errors', () => {
  it('maps an isError result to its code, message and details', async () => {
    const error = await caught(client.getStatus('ne_scan_20260101_000000_deadbeef'));
    expect(error).toBeInstanceOf(NessusMcpError);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('task ne_scan_20260101_000000_deadbeef not found');
    expect(error.details).toEqual({ task_id: 'ne_scan_20260101_000000_deadbeef' });
    expect(error.toJSON()).toEqual({ error: { code: 'not_found', message: error.message, details: error.details } });
  });

  it('maps a conflict from cancelling a finished task', async () => {
    const error = await caught(client.cancel(gateway.addTask('already-done')));
    expect(error.code).toBe('conflict');
  });

  it('reports a wrong token as unauthorized with the server message and without the token', async () => {
    const error = await caught(NessusMcpClient.connect({ url: gateway.url, token: 'wrong-secret' }));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('missing or invalid bearer token');
    expect(error.message).toContain('AUTH_TOKEN');
    expect(error.message).not.toContain('wrong-secret');
  });

  it('reports a gateway that is not listening as unavailable', async () => {
    const url = await closedPortUrl();
    const error = await caught(NessusMcpClient.connect({ url, token: TOKEN }));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('reports a URL without an MCP endpoint as unavailable', async () => {
    const error = await caught(NessusMcpClient.connect({ url: gateway.url.replace('/mcp', '/nothing'), token: TOKEN }));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain('/nothing');
    expect(error.details).toMatchObject({ http_status: 404 });
  });

  it('refuses credentials in the URL without echoing them', async () => {
    const error = await caught(NessusMcpClient.connect({ url: gateway.url.replace('http://', 'http://user:s3cret@'), token: TOKEN }));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('AUTH_TOKEN');
    expect(error.message).not.toContain('s3cret');
  });

  it('uses the fetch it is given for every request', async () => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests += 1;
      return fetch(input, init);
    };
    const custom = await NessusMcpClient.connect({ url: gateway.url, token: TOKEN, fetch: counting });
    try {
      const before = requests;
      await custom.listScanners();
      expect(requests).toBe(before + 1);
    } finally {
      await custom.close();
    }
  });
});
