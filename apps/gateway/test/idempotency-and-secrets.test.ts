import { describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { BULL_PREFIX, openScanCredentials, scanQueueName } from '@nessus-mcp/core';
import { auth, callTool, errorBody, http, type TestGateway, TOKEN, useGatewayWithClient } from './support/test-gateway.js';

let gw: TestGateway;
let client: Client;
useGatewayWithClient((started) => ({ gw, client } = started));

describe('idempotency keys', () => {
  it('turns concurrent identical calls into one task, replayed with the same response shape', async () => {
    const args = { targets: '192.168.7.0/29', name: 'idem race', idempotency_key: `race-${gw.pool}` };
    const results = await Promise.all(Array.from({ length: 8 }, () => callTool(client, 'run_untrusted_scan', args)));
    const outputs = results.map((r) => r.structuredContent as Record<string, unknown>);
    expect(new Set(outputs.map((o) => o.task_id)).size).toBe(1);
    expect(outputs.filter((o) => o.idempotent_replay === false)).toHaveLength(1);
    for (const output of outputs) expect(Object.keys(output).sort()).toEqual(Object.keys(outputs[0]!).sort());
    const counts = await gw.runtime.services.context.queues.forPool(gw.pool).getJobCounts('waiting');
    expect(counts.waiting).toBe(1);
  });

  it('refuses the same key with different parameters as a conflict naming the original task', async () => {
    const key = `conflict-${gw.pool}`;
    const first = await callTool(client, 'run_untrusted_scan', { targets: '192.168.8.1', name: 'original', idempotency_key: key });
    const taskId = (first.structuredContent as { task_id: string }).task_id;
    const second = await callTool(client, 'run_untrusted_scan', { targets: '192.168.8.2', name: 'original', idempotency_key: key });
    expect(errorBody(second).error).toMatchObject({ code: 'conflict', details: { task_id: taskId } });
    const rest = await http(gw.url, 'POST', '/api/v1/scans/untrusted', {
      headers: { ...auth, 'idempotency-key': key },
      body: { targets: '192.168.8.2', name: 'original' },
    });
    expect(rest.status).toBe(409);
    expect(rest.json()).toEqual(errorBody(second));
  });

  it('replays over REST with the Idempotency-Key header and answers 202', async () => {
    const headers = { ...auth, 'idempotency-key': `rest-${gw.pool}` };
    const body = { targets: '192.168.9.1', name: 'rest idem' };
    const first = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers, body });
    const second = await http(gw.url, 'POST', '/api/v1/scans/untrusted', { headers, body });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.json<{ task_id: string; idempotent_replay: boolean }>()).toMatchObject({
      task_id: first.json<{ task_id: string }>().task_id,
      idempotent_replay: true,
    });
  });

  it('treats a different secret as different parameters', async () => {
    const key = `secret-${gw.pool}`;
    const base = { targets: '192.168.10.1', name: 'secret idem', ssh_username: 'scan', idempotency_key: key };
    const first = await callTool(client, 'run_trusted_scan', { ...base, ssh_password: 'first-password' });
    expect(first.isError).toBeFalsy();
    expect((await callTool(client, 'run_trusted_scan', { ...base, ssh_password: 'first-password' })).structuredContent).toMatchObject({
      idempotent_replay: true,
    });
    expect(errorBody(await callTool(client, 'run_trusted_scan', { ...base, ssh_password: 'other-password' })).error.code).toBe('conflict');
  });
});

describe('secrets', () => {
  const SSH_PASSWORD = 'Sup3r-S3cret-SSH-pw!';
  const SUDO_PASSWORD = 'Sud0-S3cret-escalation';
  const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----';

  it('never shows credentials in responses, logs, Redis or Bull Board, yet the worker can decrypt them', async () => {
    const responses: string[] = [];
    const privileged = await callTool(client, 'run_privileged_scan', {
      targets: '10.20.0.5',
      name: 'secret check',
      ssh_username: 'auditor',
      ssh_password: SSH_PASSWORD,
      elevate_privileges_with: 'sudo',
      escalation_password: SUDO_PASSWORD,
    });
    responses.push(JSON.stringify(privileged));
    const taskId = (privileged.structuredContent as { task_id: string }).task_id;
    const keyed = await http(gw.url, 'POST', '/api/v1/scans/trusted', {
      headers: auth,
      body: { targets: '10.20.0.6', name: 'key check', ssh_username: 'auditor', ssh_private_key: PRIVATE_KEY },
    });
    responses.push(keyed.text);
    responses.push(JSON.stringify(await callTool(client, 'get_scan_status', { task_id: taskId })));
    responses.push(JSON.stringify(await callTool(client, 'list_tasks', {})));
    responses.push(JSON.stringify(await callTool(client, 'get_queue_status', {})));
    // A failed call that echoes its arguments must not echo secrets either.
    responses.push(
      JSON.stringify(await callTool(client, 'run_trusted_scan', { targets: '8.8.8.8', name: 'x', ssh_username: 'u', ssh_password: SSH_PASSWORD })),
    );
    for (const path of ['/admin/queues/api/queues', `/admin/queues/api/queues/${scanQueueName(gw.pool)}/${taskId}`]) {
      const board = await http(gw.url, 'GET', path, { headers: auth });
      expect(board.status).toBe(200);
      responses.push(board.text);
    }
    expect(responses.join('\n')).toContain(taskId);

    const redis = gw.runtime.services.context.redis;
    const keys = [...(await redis.keys(`${gw.prefix}:*`)), ...(await redis.keys(`${BULL_PREFIX}:${scanQueueName(gw.pool)}:*`))];
    const stored: string[] = [];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') stored.push((await redis.get(key)) ?? '');
      else if (type === 'hash') stored.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') stored.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'zset') stored.push(JSON.stringify(await redis.zrange(key, 0, -1)));
    }
    expect(stored.join('\n')).toContain(taskId);

    const everything = [...responses, ...gw.logs, ...stored].join('\n');
    for (const secret of [SSH_PASSWORD, SUDO_PASSWORD, 'SECRETKEYMATERIAL', TOKEN]) expect(everything).not.toContain(secret);

    const job = await gw.runtime.services.context.queues.forPool(gw.pool).getJob(taskId);
    expect(job?.data.credentials).toMatchObject({ alg: 'A256GCM' });
    const decrypted = openScanCredentials(gw.runtime.services.context.credentialsKey, job!.data.credentials!, taskId);
    expect(decrypted).toEqual({ ssh_username: 'auditor', ssh_password: SSH_PASSWORD, elevate_privileges_with: 'sudo', escalation_password: SUDO_PASSWORD });
  });

  it('seals the su login and SSH port of a su+sudo scan with the other credentials, none of them in clear in the job', async () => {
    const submitted = await callTool(client, 'run_privileged_scan', {
      targets: '10.20.0.7',
      name: 'su+sudo check',
      ssh_username: 'auditor',
      ssh_password: SSH_PASSWORD,
      ssh_port: 2222,
      elevate_privileges_with: 'su+sudo',
      su_login: 'opsadmin',
      escalation_password: SUDO_PASSWORD,
    });
    expect(submitted.isError).toBeFalsy();
    const taskId = (submitted.structuredContent as { task_id: string }).task_id;
    const job = await gw.runtime.services.context.queues.forPool(gw.pool).getJob(taskId);
    expect(JSON.stringify(job?.data)).not.toContain('opsadmin');
    expect(openScanCredentials(gw.runtime.services.context.credentialsKey, job!.data.credentials!, taskId)).toEqual({
      ssh_username: 'auditor',
      ssh_password: SSH_PASSWORD,
      ssh_port: 2222,
      elevate_privileges_with: 'su+sudo',
      su_login: 'opsadmin',
      escalation_password: SUDO_PASSWORD,
    });
  });
});
