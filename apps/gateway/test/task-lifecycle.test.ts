import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createRedisConnection } from '@nessus-mcp/core';
import { auth, callTool, http, type TestGateway, useGatewayWithClient } from './support/test-gateway.js';

let gw: TestGateway;
let client: Client;
useGatewayWithClient((started) => ({ gw, client } = started));

async function submitted(targets: string, extra: Record<string, unknown> = {}): Promise<string> {
  return ((await callTool(client, 'run_untrusted_scan', { targets, name: 'lifecycle', ...extra })).structuredContent as { task_id: string }).task_id;
}

describe('a running scan', () => {
  it('reports live progress read from the scanner, and the worker-recorded one when the scanner cannot answer', async () => {
    const taskId = await submitted('10.30.0.1', { scanner_instance: 'mock1' });
    const scanner = gw.runtime.services.context.setup().fleet.getScanner(gw.pool, 'mock1');
    const { scanId } = await scanner.createScan({ taskId, name: 'lifecycle', targets: ['10.30.0.1'], scanType: 'untrusted' });
    await scanner.launchScan(scanId);
    const tasks = gw.runtime.services.context.tasks;
    await tasks.update(taskId, { status: 'running', nessus_scan_id: scanId, progress: 7, started_at: new Date().toISOString() });
    const live = (await callTool(client, 'get_scan_status', { task_id: taskId })).structuredContent as Record<string, unknown>;
    expect(live).toMatchObject({ status: 'running', progress_source: 'scanner', queue_position: null });
    expect(typeof live.raw_scanner_status).toBe('string');

    await tasks.update(taskId, { nessus_scan_id: '999999' });
    const recorded = (await callTool(client, 'get_scan_status', { task_id: taskId })).structuredContent as Record<string, unknown>;
    expect(recorded).toMatchObject({ progress: 7, progress_source: 'worker' });
  });

  it('is cancelled by flagging the task and broadcasting to the workers, leaving the transition to them', async () => {
    const taskId = await submitted('10.30.0.2');
    await gw.runtime.services.context.tasks.update(taskId, { status: 'running', nessus_scan_id: '41' });
    const subscriber = createRedisConnection(process.env.REDIS_URL!, 'worker');
    const heard = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
    await subscriber.subscribe(gw.runtime.services.context.tasks.keys.cancelChannel);
    try {
      const response = await http(gw.url, 'POST', `/api/v1/tasks/${taskId}/cancel`, { headers: auth });
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ task_id: taskId, status: 'running', cancel_requested: true });
      expect(await heard).toBe(taskId);
    } finally {
      subscriber.disconnect();
    }
  });
});

describe('a completed scan', () => {
  it('cannot be cancelled, and the conflict names its state', async () => {
    const taskId = await submitted('10.30.0.3');
    await gw.runtime.services.context.tasks.update(taskId, { status: 'completed', completed_at: new Date().toISOString() });
    const response = await http(gw.url, 'POST', `/api/v1/tasks/${taskId}/cancel`, { headers: auth });
    expect(response.status).toBe(409);
    expect(response.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('already completed') } });
  });
});

describe('list_tasks', () => {
  it('returns up to limit matches, newest first, however many non-matching tasks are newer', async () => {
    const older = await submitted('192.168.50.1');
    for (let i = 0; i < 5; i += 1) await submitted(`10.31.0.${i + 1}`);
    const result = await callTool(client, 'list_tasks', { target: '192.168.50.0/24', limit: 1 });
    expect((result.structuredContent as { tasks: Array<{ task_id: string }> }).tasks.map((t) => t.task_id)).toEqual([older]);
    const all = (await callTool(client, 'list_tasks', { limit: 3 })).structuredContent as { tasks: Array<{ created_at: string }> };
    const times = all.tasks.map((t) => t.created_at);
    expect(times).toEqual([...times].sort().reverse());
  });
});

describe('SIGHUP reload', () => {
  it('picks up a new pool for tools and Bull Board, and refuses a broken file while keeping the running setup', async () => {
    const path = join(gw.dataDir, 'scanners.yaml');
    const original = readFileSync(path, 'utf8');
    const extraPool = `${gw.pool}x`;
    writeFileSync(
      path,
      original.replace(
        'allowed_targets:',
        [
          `  - name: ${extraPool}`,
          '    type: mock',
          '    instances:',
          '      - instance_id: extra1',
          '        name: Extra',
          '        url: http://127.0.0.1:9',
          '        access_key: a',
          '        secret_key: b',
          'allowed_targets:',
        ].join('\n'),
      ),
    );
    await gw.runtime.reloadScanners();
    gw.gateway.refreshQueues();
    const scanners = (await callTool(client, 'list_scanners', {})).structuredContent as { pools: Array<{ name: string }> };
    expect(scanners.pools.map((p) => p.name)).toEqual([gw.pool, extraPool]);
    const board = await http(gw.url, 'GET', '/admin/queues/api/queues', { headers: auth });
    expect(board.text).toContain(`scans-${extraPool}`);

    writeFileSync(path, 'pools: [');
    await expect(gw.runtime.reloadScanners()).rejects.toThrow('is not valid YAML');
    const still = (await callTool(client, 'list_scanners', {})).structuredContent as { pools: Array<{ name: string }> };
    expect(still.pools.map((p) => p.name)).toEqual([gw.pool, extraPool]);
    writeFileSync(path, original);
  });
});
