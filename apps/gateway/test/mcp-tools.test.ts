import { describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, callTool, errorBody, http, type TestGateway, useGatewayWithClient } from './support/test-gateway.js';

let gw: TestGateway;
let client: Client;
useGatewayWithClient((started) => ({ gw, client } = started));

const TOOLS = [
  'run_untrusted_scan',
  'run_trusted_scan',
  'run_privileged_scan',
  'get_scan_status',
  'get_scan_results',
  'list_tasks',
  'list_scanners',
  'get_queue_status',
  'cancel_scan',
  'summarize_findings',
  'get_finding',
  'compare_scans',
  'search_findings',
];

describe('tools/list', () => {
  it('lists exactly the contract tools with described parameters, annotations and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    for (const tool of tools) {
      expect(tool.description?.length ?? 0).toBeGreaterThan(150);
      expect(tool.description).toContain('Example');
      const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [name, schema] of Object.entries(properties)) {
        expect([name, typeof schema.description]).toEqual([name, 'string']);
      }
      // The JSON-NL tools answer text, not an object.
      if (!['get_scan_results', 'compare_scans', 'search_findings'].includes(tool.name)) expect(tool.outputSchema?.type).toBe('object');
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.run_untrusted_scan?.annotations).toMatchObject({ openWorldHint: true, readOnlyHint: false });
    expect(byName.get_scan_status?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    expect(byName.cancel_scan?.annotations).toMatchObject({ destructiveHint: true });
    expect(byName.run_trusted_scan?.inputSchema.required).toEqual(expect.arrayContaining(['targets', 'name', 'ssh_username']));
    expect(byName.run_privileged_scan?.inputSchema.required).toEqual(expect.arrayContaining(['elevate_privileges_with']));
    // A $ref-only outputSchema (zod global registry ids) breaks clients: the properties must be inline.
    expect(Object.keys((byName.get_scan_status?.outputSchema?.properties ?? {}) as object)).toEqual(
      expect.arrayContaining(['status', 'progress', 'results_summary']),
    );
  });
});

describe('submit → status → cancel', () => {
  it('queues a scan, reports it queued with a position, lists it by CIDR, then cancels it before it starts', async () => {
    const submitted = await callTool(client, 'run_untrusted_scan', { targets: '10.1.2.3, 10.1.2.0/30', name: 'flow test', description: 'line one\nline two' });
    expect(submitted.isError).toBeFalsy();
    const output = submitted.structuredContent as Record<string, unknown>;
    expect(output).toMatchObject({ status: 'queued', scanner_pool: gw.pool, idempotent_replay: false });
    expect(typeof output.task_id).toBe('string');
    expect(output.queue_position).toBeGreaterThanOrEqual(1);
    expect(typeof output.estimated_wait_minutes).toBe('number');
    expect(['mock1', 'mock2']).toContain(output.scanner_instance);
    const taskId = String(output.task_id);

    const status = await callTool(client, 'get_scan_status', { task_id: taskId });
    expect(status.structuredContent).toMatchObject({
      task_id: taskId,
      status: 'queued',
      name: 'flow test',
      target_count: 5,
      targets: ['10.1.2.3', '10.1.2.0/30'],
    });
    expect(status.content).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'resource_link', uri: `nessus://tasks/${taskId}` })]));

    const listed = await callTool(client, 'list_tasks', { target: '10.1.2.2' });
    expect((listed.structuredContent as { tasks: Array<{ task_id: string }> }).tasks.map((t) => t.task_id)).toContain(taskId);
    const notListed = await callTool(client, 'list_tasks', { target: '10.1.3.0/24' });
    expect((notListed.structuredContent as { tasks: Array<{ task_id: string }> }).tasks.map((t) => t.task_id)).not.toContain(taskId);

    const queue = await callTool(client, 'get_queue_status', {});
    const pools = (queue.structuredContent as { pools: Array<{ scanner_pool: string; counts: { waiting: number } }> }).pools;
    expect(pools.find((p) => p.scanner_pool === gw.pool)?.counts.waiting).toBeGreaterThanOrEqual(1);

    const cancelled = await callTool(client, 'cancel_scan', { task_id: taskId });
    expect(cancelled.structuredContent).toMatchObject({ task_id: taskId, status: 'cancelled', cancel_requested: true });
    expect(await gw.runtime.services.context.queues.forPool(gw.pool).getJob(taskId)).toBeUndefined();

    const again = await callTool(client, 'cancel_scan', { task_id: taskId });
    expect(errorBody(again).error).toMatchObject({ code: 'conflict' });
    expect(errorBody(again).error.message).toContain('already cancelled');
  });

  it('lists the scanner pool with capacity, live load and health', async () => {
    const result = await callTool(client, 'list_scanners', {});
    const pool = (result.structuredContent as { pools: Array<Record<string, unknown>> }).pools[0];
    expect(pool).toMatchObject({ name: gw.pool, is_default: true, capacity: 4 });
    expect(pool?.instances).toEqual([
      expect.objectContaining({ instance_id: 'mock1', max_concurrent_scans: 2, active_scans: 0, healthy: true, health_status: 'ok' }),
      expect.objectContaining({ instance_id: 'mock2' }),
    ]);
  });

  it('estimates the wait from recorded scan durations once the pool is full', async () => {
    const durationsKey = gw.runtime.services.context.tasks.keys.recentDurations(gw.pool);
    await gw.runtime.services.context.redis.del(durationsKey);
    for (const seconds of [1200, 1200]) await gw.runtime.services.context.tasks.recordDuration(gw.pool, seconds);
    const outputs: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 6; i += 1) {
      outputs.push(
        (await callTool(client, 'run_untrusted_scan', { targets: `10.9.0.${i + 1}`, name: `wait ${i}`, scanner_instance: 'mock1' }))
          .structuredContent as Record<string, unknown>,
      );
    }
    const positions = outputs.map((o) => o.queue_position as number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // mock1 has 2 slots and recent scans took 20 min: the 5th and 6th wait two waves.
    const last = outputs[outputs.length - 1]!;
    expect(last.estimated_wait_minutes).toBeGreaterThan(0);
    expect(String(last.message)).toContain('average of the last 2 scans (20 min)');
  });
});

interface BadInput {
  tool: string;
  args: Record<string, unknown>;
  code: string;
  message: string;
  rest: { method: 'GET' | 'POST'; url: (pool: string) => string; body?: Record<string, unknown>; status: number };
}

const MISSING_TASK = 'pz_mock_20250101_000000_deadbeef';
const BAD_INPUTS: BadInput[] = [
  {
    tool: 'run_untrusted_scan',
    args: { targets: ' , ', name: 'x' },
    code: 'invalid_argument',
    message: 'no target given',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.0/8', name: 'x' },
    code: 'invalid_argument',
    message: "'10.0.0.0/8' is larger than the allowed 65,536 addresses",
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1, 8.8.8.8', name: 'x' },
    code: 'out_of_scope',
    message: "'8.8.8.8' is outside",
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 422 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'bad\u0007name' },
    code: 'invalid_argument',
    message: 'name: must not contain control characters',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'invoice\u202Egpj.exe' },
    code: 'invalid_argument',
    message: 'name: must not contain invisible or text-direction characters',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'x', description: 'fine\nbut\u200Bhidden' },
    code: 'invalid_argument',
    message: 'description: must not contain invisible or text-direction characters',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'lone \uD800 surrogate' },
    code: 'invalid_argument',
    message: 'name: must not contain invisible or text-direction characters',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'n'.repeat(51) },
    code: 'invalid_argument',
    message: 'name: is 51 characters long; at most 50',
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_password: 'hunter2' },
    code: 'invalid_argument',
    message: "unknown parameter(s) 'ssh_password'",
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_untrusted_scan',
    args: { targets: '10.0.0.1', name: 'x', scanner_pool: 'nope' },
    code: 'invalid_argument',
    message: "scanner_pool: 'nope' does not exist",
    rest: { method: 'POST', url: () => '/api/v1/scans/untrusted', status: 400 },
  },
  {
    tool: 'run_trusted_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_username: 'u' },
    code: 'invalid_argument',
    message: 'exactly one of ssh_password and ssh_private_key',
    rest: { method: 'POST', url: () => '/api/v1/scans/trusted', status: 400 },
  },
  {
    tool: 'run_trusted_scan',
    args: {
      targets: '10.0.0.1',
      name: 'x',
      ssh_username: 'u',
      ssh_password: 'p',
      ssh_private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    },
    code: 'invalid_argument',
    message: 'exactly one of ssh_password and ssh_private_key',
    rest: { method: 'POST', url: () => '/api/v1/scans/trusted', status: 400 },
  },
  {
    tool: 'run_privileged_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'doas' },
    code: 'invalid_argument',
    message: 'elevate_privileges_with',
    rest: { method: 'POST', url: () => '/api/v1/scans/privileged', status: 400 },
  },
  {
    tool: 'run_privileged_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'su+sudo', escalation_password: 'e' },
    code: 'invalid_argument',
    message: 'su_login: is required with su+sudo',
    rest: { method: 'POST', url: () => '/api/v1/scans/privileged', status: 400 },
  },
  {
    tool: 'run_privileged_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'sudo', su_login: 'admin' },
    code: 'invalid_argument',
    message: "su_login: only applies with elevate_privileges_with 'su+sudo'",
    rest: { method: 'POST', url: () => '/api/v1/scans/privileged', status: 400 },
  },
  {
    tool: 'run_trusted_scan',
    args: { targets: '10.0.0.1', name: 'x', ssh_username: 'u', ssh_private_key: 'not a key' },
    code: 'invalid_argument',
    message: 'ssh_private_key: is not a PEM private key',
    rest: { method: 'POST', url: () => '/api/v1/scans/trusted', status: 400 },
  },
  {
    tool: 'get_scan_status',
    args: { task_id: '../../etc/passwd' },
    code: 'invalid_argument',
    message: 'task_id: is not a task id',
    rest: { method: 'GET', url: () => '/api/v1/tasks/..%2F..%2Fetc%2Fpasswd', status: 400 },
  },
  {
    tool: 'get_scan_status',
    args: { task_id: MISSING_TASK },
    code: 'not_found',
    message: `no task with id '${MISSING_TASK}'`,
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}`, status: 404 },
  },
  {
    tool: 'cancel_scan',
    args: { task_id: MISSING_TASK },
    code: 'not_found',
    message: 'no task with id',
    rest: { method: 'POST', url: () => `/api/v1/tasks/${MISSING_TASK}/cancel`, status: 404 },
  },
  {
    tool: 'get_scan_results',
    args: { task_id: MISSING_TASK },
    code: 'not_found',
    message: 'no task with id',
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}/results`, status: 404 },
  },
  {
    tool: 'summarize_findings',
    args: { task_id: MISSING_TASK, group_by: 'host' },
    code: 'not_found',
    message: 'no task with id',
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}/summary?group_by=host`, status: 404 },
  },
  {
    tool: 'summarize_findings',
    args: { task_id: MISSING_TASK, group_by: 'host', top: 0 },
    code: 'invalid_argument',
    message: 'top:',
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}/summary?group_by=host&top=0`, status: 400 },
  },
  {
    tool: 'get_finding',
    args: { task_id: MISSING_TASK, finding_id: '0123456789abcdef' },
    code: 'not_found',
    message: 'no task with id',
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}/findings/0123456789abcdef`, status: 404 },
  },
  {
    tool: 'get_finding',
    args: { task_id: MISSING_TASK, finding_id: '../x' },
    code: 'invalid_argument',
    message: 'finding_id: is not a finding id',
    rest: { method: 'GET', url: () => `/api/v1/tasks/${MISSING_TASK}/findings/..%2Fx`, status: 400 },
  },
  {
    tool: 'list_tasks',
    args: { target: '10.0.0.300' },
    code: 'invalid_argument',
    message: "target: '10.0.0.300' is not a valid IP address",
    rest: { method: 'GET', url: () => '/api/v1/tasks?target=10.0.0.300', status: 400 },
  },
  {
    tool: 'list_tasks',
    args: { status: 'sleeping' },
    code: 'invalid_argument',
    message: 'status:',
    rest: { method: 'GET', url: () => '/api/v1/tasks?status=sleeping', status: 400 },
  },
  {
    tool: 'list_tasks',
    args: { limit: 0 },
    code: 'invalid_argument',
    message: 'limit:',
    rest: { method: 'GET', url: () => '/api/v1/tasks?limit=0', status: 400 },
  },
  {
    tool: 'list_scanners',
    args: { scanner_pool: 'nope' },
    code: 'not_found',
    message: "scanner_pool: 'nope' does not exist",
    rest: { method: 'GET', url: () => '/api/v1/scanners?scanner_pool=nope', status: 404 },
  },
  {
    tool: 'get_queue_status',
    args: { scanner_pool: 'nope' },
    code: 'not_found',
    message: "scanner_pool: 'nope' does not exist",
    rest: { method: 'GET', url: () => '/api/v1/queue?scanner_pool=nope', status: 404 },
  },
];

describe('bad inputs', () => {
  it.each(BAD_INPUTS.map((c) => [`${c.tool} ${JSON.stringify(c.args).slice(0, 60)}`, c] as const))(
    '%s → isError with the code, and the REST twin answers the same body',
    async (_label, c) => {
      const result = await callTool(client, c.tool, c.args);
      const body = errorBody(result);
      expect(body.error.code).toBe(c.code);
      expect(body.error.message).toContain(c.message);

      const isBody = c.rest.method === 'POST' && c.rest.url(gw.pool).startsWith('/api/v1/scans/');
      const response = await http(gw.url, c.rest.method, c.rest.url(gw.pool), { headers: auth, ...(isBody ? { body: c.args } : {}) });
      expect(response.status).toBe(c.rest.status);
      expect(response.json()).toEqual(body);
    },
  );

  it('refuses a negative page before looking anything up', async () => {
    const badPage = await callTool(client, 'get_scan_results', { task_id: MISSING_TASK, page: -1 });
    expect(errorBody(badPage).error).toMatchObject({ code: 'invalid_argument' });
    expect(errorBody(badPage).error.message).toContain('page:');
  });
});
