import { describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, callTool, errorBody, http, useGatewayWithClient, type TestGateway } from './support/test-gateway.js';

describe('dry_run on the scan tools', () => {
  let gw: TestGateway;
  let client: Client;
  useGatewayWithClient((started) => ({ gw, client } = started));

  const counts = async () => {
    const tasks = (await http(gw.url, 'GET', '/api/v1/tasks?limit=100', { headers: auth })).json<{ tasks: unknown[] }>().tasks.length;
    const audit = (await http(gw.url, 'GET', '/api/v1/audit?limit=1000', { headers: auth })).json<{ records: unknown[] }>().records.length;
    const jobs = await gw.runtime.services.context.queues.forPool(gw.pool).getJobCounts();
    return { tasks, audit, jobs };
  };

  it('answers what would happen over MCP and queues nothing', async () => {
    const before = await counts();
    const result = await callTool(client, 'run_untrusted_scan', { targets: '10.1.2.0/28, web01.lab.example.com', name: 'ask first', dry_run: true });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      task_id: null,
      status: 'dry_run',
      scanner_pool: gw.pool,
      scanner_instance: expect.stringMatching(/^mock[12]$/),
      queue_position: 1,
      estimated_wait_minutes: 0,
      dry_run: { address_count: 17, scope_checks_passed: expect.arrayContaining(["targets are inside the server's allowed_targets"]) },
    });
    expect(await counts()).toEqual(before);
  });

  it('runs the same checks as a real submission (out of scope, bad credentials)', async () => {
    expect(errorBody(await callTool(client, 'run_untrusted_scan', { targets: '8.8.8.8', name: 'x', dry_run: true })).error.code).toBe('out_of_scope');
    expect(errorBody(await callTool(client, 'run_trusted_scan', { targets: '10.0.0.1', name: 'x', ssh_username: 'u', dry_run: true })).error.message).toContain(
      'exactly one of ssh_password and ssh_private_key',
    );
  });

  it('works on the REST routes with 200 and the credential check listed', async () => {
    const before = await counts();
    const response = await http(gw.url, 'POST', '/api/v1/scans/privileged', {
      headers: auth,
      body: { targets: '10.0.0.1-10.0.0.4', name: 'root audit', ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'sudo', dry_run: true },
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'dry_run',
      task_id: null,
      dry_run: { address_count: 4, scope_checks_passed: expect.arrayContaining(['SSH credentials are complete and well-formed']) },
    });
    expect(response.text).not.toContain('"p"');
    expect(await counts()).toEqual(before);
  });

  it('a dry run and the real call with the same idempotency key are not confused', async () => {
    const body = { targets: '10.0.0.9', name: 'keyed', idempotency_key: `dry-${gw.pool}` };
    expect((await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: auth, body: { ...body, dry_run: true } })).status).toBe(200);
    const real = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: auth, body });
    expect(real.status).toBe(202);
    expect(real.json()).toMatchObject({ status: 'queued', idempotent_replay: false });
    expect((await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers: auth, body: { ...body, dry_run: false } })).json()).toMatchObject({
      idempotent_replay: true,
    });
  });
});
