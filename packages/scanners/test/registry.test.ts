import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { ScannerInstanceConfig, ScannerPoolsConfig } from '../src/config.js';
import { MockScanner } from '../src/mock-scanner.js';
import { ScannerRegistry } from '../src/registry.js';

const instance = (id: string, max: number, extra: Partial<ScannerInstanceConfig> = {}): ScannerInstanceConfig => ({
  instance_id: id,
  name: `Scanner ${id}`,
  url: `http://127.0.0.1:1/${id}`,
  access_key: 'k',
  secret_key: 's',
  max_concurrent_scans: max,
  enabled: true,
  tls_verify: true,
  timeout_ms: 1_000,
  ...extra,
});

const config = (...instances: ScannerInstanceConfig[]): ScannerPoolsConfig => ({
  default_pool: 'scan',
  pools: [
    { name: 'scan', type: 'mock', folder: 'nessus-mcp', instances },
    { name: 'other', type: 'mock', folder: 'nessus-mcp', instances: [instance('solo', 1)] },
  ],
});

describe('ScannerRegistry with shared load in Redis', () => {
  const connections: Redis[] = [];
  const registries: ScannerRegistry[] = [];
  let prefix: string;

  const connect = (): Redis => {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('REDIS_URL is not set: the jest global setup starts redis-server');
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  };
  const registry = (cfg: ScannerPoolsConfig, extra: Partial<ConstructorParameters<typeof ScannerRegistry>[1]> = {}): ScannerRegistry => {
    const r = new ScannerRegistry(cfg, { redis: connect(), keyPrefix: prefix, ...extra });
    registries.push(r);
    return r;
  };
  const active = async (r: ScannerRegistry, pool = 'scan'): Promise<Record<string, number>> =>
    Object.fromEntries((await r.load(pool)).map((l) => [l.instanceId, l.active]));

  beforeAll(() => {
    prefix = `test-${randomUUID()}`;
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.close()));
    prefix = `test-${randomUUID()}`;
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('picks the least-loaded instance relative to its capacity', async () => {
    const r = registry(config(instance('a', 2), instance('b', 4)));
    const picks: string[] = [];
    for (let i = 0; i < 6; i += 1) picks.push((await r.selectInstance('scan', `task-${i}`))?.instanceId ?? 'none');
    expect(picks).toEqual(['a', 'b', 'b', 'a', 'b', 'b']);
    expect(await r.load('scan')).toEqual([
      { poolName: 'scan', instanceId: 'a', name: 'Scanner a', enabled: true, active: 2, capacity: 2 },
      { poolName: 'scan', instanceId: 'b', name: 'Scanner b', enabled: true, active: 4, capacity: 4 },
    ]);
  });

  it('returns null when every instance is at max_concurrent_scans, and a slot again after a release', async () => {
    const r = registry(config(instance('a', 1), instance('b', 1)));
    const first = await r.selectInstance('scan', 't1');
    await r.selectInstance('scan', 't2');
    expect(await r.selectInstance('scan', 't3')).toBeNull();
    expect(await r.release('scan', first?.instanceId ?? '', 't1')).toBe(true);
    expect((await r.selectInstance('scan', 't3'))?.instanceId).toBe(first?.instanceId);
  });

  it('makes release idempotent', async () => {
    const r = registry(config(instance('a', 2)));
    await r.selectInstance('scan', 't1');
    expect(await r.release('scan', 'a', 't1')).toBe(true);
    expect(await r.release('scan', 'a', 't1')).toBe(false);
    expect(await active(r)).toEqual({ a: 0 });
  });

  it('gives a task that already holds a slot the same instance again, without taking a second slot', async () => {
    const r = registry(config(instance('a', 1), instance('b', 1)));
    const first = await r.selectInstance('scan', 'crashed-task');
    await r.selectInstance('scan', 'other-task');
    const again = await r.selectInstance('scan', 'crashed-task');
    expect(again).toMatchObject({ instanceId: first?.instanceId, reused: true });
    expect(first?.reused).toBe(false);
    expect(await active(r)).toEqual({ a: 1, b: 1 });
  });

  it('skips disabled instances, and only uses the preferred instance when one is named', async () => {
    const r = registry(config(instance('a', 5, { enabled: false }), instance('b', 1), instance('c', 1)));
    expect((await r.selectInstance('scan', 't1', 'c'))?.instanceId).toBe('c');
    expect(await r.selectInstance('scan', 't2', 'c')).toBeNull();
    expect((await r.selectInstance('scan', 't2'))?.instanceId).toBe('b');
    expect(await r.selectInstance('scan', 't3')).toBeNull();
    await expect(r.selectInstance('scan', 't4', 'a')).rejects.toMatchObject({ code: 'scanner_unavailable' });
    await expect(r.selectInstance('scan', 't4', 'zzz')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(r.selectInstance('nope', 't4')).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('hands out the scanner object of the chosen instance', async () => {
    const r = registry(config(instance('a', 1)));
    const selection = await r.selectInstance('scan', 't1');
    expect(selection?.scanner).toBe(r.getScanner('scan', 'a'));
    expect(selection?.scanner).toBeInstanceOf(MockScanner);
    expect(selection?.scanner.instanceId).toBe('a');
  });

  it('shows the same load to every process', async () => {
    const cfg = config(instance('a', 3), instance('b', 3));
    const gateway = registry(cfg);
    const worker = registry(cfg);
    await worker.selectInstance('scan', 't1');
    await worker.selectInstance('scan', 't2');
    await worker.selectInstance('other', 't3');
    expect(await active(gateway)).toEqual({ a: 1, b: 1 });
    expect(await active(gateway, 'other')).toEqual({ solo: 1 });
    expect((await gateway.reservations('scan', 'a')).map((x) => x.taskId)).toEqual(['t1']);
  });

  it('never exceeds max_concurrent_scans when two processes select concurrently', async () => {
    const cfg = config(instance('a', 3), instance('b', 2), instance('c', 1, { enabled: false }));
    const one = registry(cfg);
    const two = registry(cfg);
    const attempts = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? one : two).selectInstance('scan', `task-${i}`));
    const results = await Promise.all(attempts);
    const granted = results.filter((s) => s !== null);
    expect(granted).toHaveLength(5);
    expect(granted.filter((s) => s.instanceId === 'a')).toHaveLength(3);
    expect(granted.filter((s) => s.instanceId === 'b')).toHaveLength(2);
    expect(await active(two)).toEqual({ a: 3, b: 2, c: 0 });

    // Releases and selects racing each other still never overshoot.
    const holders = results.flatMap((s, i) => (s ? [{ instanceId: s.instanceId, taskId: `task-${i}` }] : []));
    const churn = await Promise.all([
      ...holders.map((h, i) => (i % 2 ? one : two).release('scan', h.instanceId, h.taskId)),
      ...Array.from({ length: 40 }, (_, i) => (i % 2 ? two : one).selectInstance('scan', `late-${i}`)),
    ]);
    expect(churn.slice(0, holders.length)).toEqual(holders.map(() => true));
    const load = await one.load('scan');
    for (const l of load) expect(l.active).toBeLessThanOrEqual(l.capacity);
  });

  it('shares health checks through Redis until they expire, and checks again on demand', async () => {
    const scanners = new Map<string, MockScanner>();
    const cfg = config(instance('a', 1), instance('b', 1, { enabled: false }));
    const factory = (pool: { name: string }, inst: ScannerInstanceConfig): MockScanner => {
      const key = `${pool.name}/${inst.instance_id}`;
      const existing = scanners.get(key);
      if (existing) return existing;
      const scanner = new MockScanner({ poolName: pool.name, instanceId: inst.instance_id });
      scanners.set(key, scanner);
      return scanner;
    };
    const first = registry(cfg, { scannerFactory: factory, healthTtlMs: 60_000 });
    const second = registry(cfg, { scannerFactory: factory, healthTtlMs: 60_000 });
    const mock = scanners.get('scan/a');
    expect((await first.health('scan')).map((h) => [h.instanceId, h.healthy, h.status])).toEqual([
      ['a', true, 'ok'],
      ['b', false, 'unreachable'],
    ]);
    mock?.setHealth({ healthy: false, status: 'licence_restricted', scanApi: false, message: 'no API' });
    expect((await second.health('scan'))[0]).toMatchObject({ healthy: true, status: 'ok' });
    expect((await second.health('scan', { refresh: true }))[0]).toMatchObject({ healthy: false, status: 'licence_restricted' });
    expect((await first.health('scan'))[0]).toMatchObject({ healthy: false, status: 'licence_restricted' });
    expect(mock?.calls.filter((c) => c.operation === 'checkHealth')).toHaveLength(2);
    expect(scanners.get('scan/b')?.calls.filter((c) => c.operation === 'checkHealth')).toHaveLength(0);
  });

  it('refuses a configuration whose default pool does not exist', () => {
    expect(() => new ScannerRegistry({ ...config(instance('a', 1)), default_pool: 'missing' }, { redis: connect() })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  it('lists instances without their secrets', () => {
    const r = registry(config(instance('a', 2)));
    expect(r.defaultPool).toBe('scan');
    expect(r.poolNames()).toEqual(['scan', 'other']);
    const listed = JSON.stringify(r.instances());
    expect(listed).toContain('"instanceId":"a"');
    expect(listed).not.toContain('secret');
    expect(listed).not.toContain('access_key');
  });
});
