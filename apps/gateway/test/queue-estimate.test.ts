import { describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Worker } from 'bullmq';
import { createRedisConnection } from '@nessus-mcp/core';
import { ASSUMED_SCAN_SECONDS, estimateWait } from '../src/services/queue-estimate.js';
import { callTool, type TestGateway, useGatewayWithClient } from './support/test-gateway.js';

const instance = (active: number, capacity: number, enabled = true) => ({
  poolName: 'p',
  instanceId: `i${active}${capacity}`,
  name: 'i',
  enabled,
  active,
  capacity,
});

describe('estimateWait', () => {
  it('is zero while free slots remain', () => {
    expect(estimateWait(2, [instance(1, 4)], [600]).estimated_wait_minutes).toBe(0);
  });

  it('counts full waves of the pool capacity at the average recent duration', () => {
    // 4 slots all busy, 20-minute scans: positions 1-4 wait one wave, 5-8 two.
    const load = [instance(2, 2), instance(2, 2)];
    expect(estimateWait(1, load, [1200, 1200]).estimated_wait_minutes).toBe(20);
    expect(estimateWait(5, load, [600, 1800]).estimated_wait_minutes).toBe(40);
  });

  it('ignores disabled instances and says when there is no capacity at all', () => {
    expect(estimateWait(1, [instance(0, 4, false)], [600])).toMatchObject({ estimated_wait_minutes: null, basis: 'no enabled scanner instance in this pool' });
  });

  it('states its assumption before any scan of the pool finished', () => {
    const estimate = estimateWait(3, [instance(1, 1)], []);
    expect(estimate.estimated_wait_minutes).toBe((3 * ASSUMED_SCAN_SECONDS) / 60);
    expect(estimate.basis).toContain('no finished scan in this pool yet');
  });
});

describe('queue position of tasks waiting for a scanner slot', () => {
  let gw: TestGateway;
  let client: Client;
  useGatewayWithClient((started) => ({ gw, client } = started));

  const positionOf = async (taskId: string): Promise<unknown> =>
    ((await callTool(client, 'get_scan_status', { task_id: taskId })).structuredContent as Record<string, unknown>).queue_position;

  it('counts the scans parked for a free slot (oldest first) ahead of new ones, and not running scans between polls', async () => {
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const submitted = await callTool(client, 'run_untrusted_scan', { targets: '10.9.0.1', name });
      ids.push(String((submitted.structuredContent as Record<string, unknown>).task_id));
      // Distinct creation times, so "oldest first" is well defined.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [first, second, third] = ids as [string, string, string];
    expect(await Promise.all(ids.map(positionOf))).toEqual([1, 2, 3]);

    // What the worker does when every slot is busy: take the job, park it in the delayed set.
    const { context } = gw.runtime.services;
    const queue = context.queues.forPool(gw.pool);
    const connection = createRedisConnection(process.env.REDIS_URL!, 'worker');
    const manual = new Worker(queue.name, null, { connection, prefix: queue.opts.prefix, autorun: false });
    try {
      for (const expected of [first, second]) {
        const job = await manual.getNextJob('manual-token');
        expect(job?.id).toBe(expected);
        await job!.moveToDelayed(Date.now() + 60_000, 'manual-token');
      }
      // Parked: 1 and 2 by age; the third, still a new job, comes after both (these read 0, 0, 1
      // when only the list of new jobs was counted).
      expect(await Promise.all(ids.map(positionOf))).toEqual([1, 2, 3]);

      // The first one gets a slot and starts: its delayed job is now a running scan between polls.
      await context.tasks.update(first, { status: 'running', started_at: new Date().toISOString() });
      expect(await positionOf(first)).toBeNull();
      expect(await positionOf(second)).toBe(1);
      expect(await positionOf(third)).toBe(2);
    } finally {
      await manual.close();
      connection.disconnect();
    }
  });
});
