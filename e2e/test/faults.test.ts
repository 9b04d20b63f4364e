import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { SystemUnderTest, eventually } from './system-under-test.js';

interface Task {
  task_id: string;
  status: string;
  error?: { code: string; message: string } | null;
  raw_scanner_status?: string | null;
}

let system: SystemUnderTest;

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'faults', scanSeconds: 3 });
}, 90000);

afterAll(async () => {
  await system?.stop();
});

async function submit(name: string, targets = '10.40.0.1', extra: Record<string, unknown> = {}): Promise<string> {
  const response = await system.api('/api/v1/scans/untrusted', { method: 'POST', body: JSON.stringify({ targets, name, ...extra }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as Task).task_id;
}

async function task(id: string): Promise<Task> {
  return (await (await system.api(`/api/v1/tasks/${id}`)).json()) as Task;
}

async function finished(id: string, timeoutMs = 60000): Promise<Task> {
  return eventually(
    async () => {
      const t = await task(id);
      return ['completed', 'failed', 'timeout', 'cancelled'].includes(t.status) ? t : undefined;
    },
    timeoutMs,
    `task ${id} to finish`,
    300,
  );
}

async function scanCounts(id: string): Promise<{ created: number; launched: number }> {
  const stats = await system.simStats();
  const entry = Object.entries(stats.by_name).find(([name]) => name.includes(id));
  return entry ? entry[1] : { created: 0, launched: 0 };
}

describe('faults users will hit', () => {
  it('a worker SIGKILLed mid-scan is restarted and the same Nessus scan completes, created and launched once', async () => {
    await system.setFaults({ scan_seconds: 6 });
    const id = await submit('sigkill worker');
    await eventually(async () => (await task(id)).status === 'running', 30000, 'running');
    await system.killWorker(0, 'SIGKILL');
    await system.restartWorker(0);
    const done = await finished(id);
    expect(done.status).toBe('completed');
    expect(await scanCounts(id)).toMatchObject({ created: 1, launched: 1 });
    await system.setFaults({ scan_seconds: 3 });
  }, 120000);

  it('Redis restarted (AOF) mid-run loses no task', async () => {
    const ids = [await submit('redis restart a', '10.41.0.1'), await submit('redis restart b', '10.41.0.2')];
    await system.restartRedis();
    for (const id of ids) expect((await finished(id, 90000)).status).toBe('completed');
  }, 150000);

  it('a licence without scan_api fails at once with the licence message', async () => {
    await system.setFaults({ licence_412: 'drop' });
    try {
      const id = await submit('licence 412');
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error?.code).toBe('scanner_unavailable');
      expect(done.error?.message).toMatch(/API/i);
    } finally {
      await system.setFaults({ licence_412: null });
    }
  }, 90000);

  it('5xx bursts are retried and the scan completes', async () => {
    await system.setFaults({ error_rate: 0.2 });
    try {
      const id = await submit('flaky nessus');
      expect((await finished(id, 90000)).status).toBe('completed');
    } finally {
      await system.setFaults({ error_rate: 0 });
    }
  }, 120000);

  it('an export that keeps failing ends failed with a clear reason', async () => {
    await system.setFaults({ export_mode: 'error' });
    try {
      const id = await submit('export error');
      const done = await finished(id, 90000);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/export/i);
    } finally {
      await system.setFaults({ export_mode: 'ok' });
    }
  }, 120000);

  it('session expiry mid-scan triggers a re-login and the scan completes', async () => {
    await system.setFaults({ session_ttl_s: 1 });
    try {
      const id = await submit('session expiry');
      expect((await finished(id)).status).toBe('completed');
    } finally {
      await system.setFaults({ session_ttl_s: 3600 });
    }
  }, 90000);

  it('50 concurrent agents submitting and polling: all complete, none scanned twice', async () => {
    await system.setFaults({ scan_seconds: 1 });
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(`crowd ${i}`, `10.50.${Math.floor(i / 200)}.${(i % 200) + 1}`)));
    expect(new Set(ids).size).toBe(50);
    const results = await Promise.all(ids.map((id) => finished(id, 240000)));
    expect(results.every((t) => t.status === 'completed')).toBe(true);
    const stats = await system.simStats();
    for (const id of ids) {
      const entries = Object.entries(stats.by_name).filter(([name]) => name.includes(id));
      expect(entries).toHaveLength(1);
      expect(entries[0]![1]).toMatchObject({ created: 1, launched: 1 });
    }
    await system.setFaults({ scan_seconds: 3 });
  }, 300000);

  it('no test password appears in Redis, job data or any log', async () => {
    const secret = 'Sup3r-Secret-SSH-Pa55';
    const response = await system.api('/api/v1/scans/trusted', {
      method: 'POST',
      body: JSON.stringify({ targets: '10.60.0.1', name: 'secret hunt', ssh_username: 'scan', ssh_password: secret }),
    });
    expect(response.status).toBe(202);
    const id = ((await response.json()) as Task).task_id;
    await finished(id);
    const redis = new Redis(system.redis.url);
    try {
      const keys = await redis.keys('*');
      let dump = keys.join('\n');
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') dump += await redis.get(key);
        else if (type === 'hash') dump += JSON.stringify(await redis.hgetall(key));
        else if (type === 'list') dump += (await redis.lrange(key, 0, -1)).join('\n');
        else if (type === 'set') dump += (await redis.smembers(key)).join('\n');
        else if (type === 'zset') dump += (await redis.zrange(key, 0, -1)).join('\n');
        else if (type === 'stream') dump += JSON.stringify(await redis.xrange(key, '-', '+'));
      }
      expect(dump).not.toContain(secret);
    } finally {
      await redis.quit();
    }
    expect(system.logs()).not.toContain(secret);
    const board = await system.api('/admin/queues/api/queues?activeQueue=scans-nessus&status=completed&page=1');
    expect(await board.text()).not.toContain(secret);
  }, 90000);
});
