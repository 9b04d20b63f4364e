import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SystemUnderTest, eventually, toolJson, toolText } from './system-under-test.js';

interface Status {
  task_id: string;
  status: string;
  error?: { code: string; message: string } | null;
}

let system: SystemUnderTest;
let agent: Client;

beforeAll(async () => {
  // A generous step budget with short backoffs: create and launch are not retried in place, so
  // under 30 % errors a step needs a few tries now and then; in-place retries wait 20 ms × 2^n.
  system = await SystemUnderTest.start({
    label: 'flaky-scanner',
    scanSeconds: 1,
    attempts: 10,
    scans: { backoff_ms: 100 },
    instance: { http_retry_backoff_ms: 20 },
  });
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

async function scan(targets: string, name: string): Promise<Status> {
  const { task_id } = toolJson<{ task_id: string }>(await call('run_untrusted_scan', { targets, name }));
  return eventually(
    async () => {
      const status = toolJson<Status>(await call('get_scan_status', { task_id }));
      return ['completed', 'failed', 'timeout', 'cancelled'].includes(status.status) ? status : undefined;
    },
    110000,
    `task ${task_id} to finish`,
    300,
  );
}

/** Every finding of a task as host/port/plugin lines, sorted: what an agent reads out. */
async function findings(taskId: string): Promise<string[]> {
  const text = toolText(await call('get_scan_results', { task_id: taskId, page: 0, schema_profile: 'minimal' }));
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.type === 'vulnerability')
    .map((line) => `${String(line.host)} ${String(line.port)} ${String(line.plugin_id)}`)
    .sort();
}

const targets = (i: number): string => `10.70.${i}.1,10.70.${i}.2`;

describe('a flaky Nessus (5xx on a share of every API call), MCP in, results out', () => {
  const baseline: string[][] = [];

  beforeAll(async () => {
    const done = await Promise.all(Array.from({ length: 10 }, (_, i) => scan(targets(i), `baseline ${i}`)));
    expect(done.map((t) => t.status)).toEqual(Array(10).fill('completed'));
    for (const task of done) baseline.push(await findings(task.task_id));
  }, 120000);

  it('error_rate 0.3: 10 of 10 scans complete with the same findings as without faults', async () => {
    await system.setFaults({ error_rate: 0.3 });
    try {
      const done = await Promise.all(Array.from({ length: 10 }, (_, i) => scan(targets(i), `flaky ${i}`)));
      expect(done.map((t) => [t.status, t.error?.code ?? null])).toEqual(Array(10).fill(['completed', null]));
      await system.setFaults({ error_rate: 0 });
      for (const [i, task] of done.entries()) expect(await findings(task.task_id)).toEqual(baseline[i]);
    } finally {
      await system.setFaults({ error_rate: 0 });
    }
  }, 150000);

  it('error_rate 0.6: each scan completes with the same findings or fails with scanner_unavailable, never a partial result', async () => {
    await system.setFaults({ error_rate: 0.6 });
    let done: Status[];
    try {
      done = await Promise.all(Array.from({ length: 5 }, (_, i) => scan(targets(i), `very flaky ${i}`)));
    } finally {
      await system.setFaults({ error_rate: 0 });
    }
    for (const [i, task] of done.entries()) {
      if (task.status === 'completed') expect(await findings(task.task_id)).toEqual(baseline[i]);
      else expect([task.status, task.error?.code]).toEqual(['failed', 'scanner_unavailable']);
    }
  }, 150000);
});
