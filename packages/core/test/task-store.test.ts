import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TaskStore } from '../src/task-store.js';
import { isValidTaskId, newTaskId, type Task } from '../src/tasks.js';

let redis: Redis;
let store: TaskStore;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
  store = new TaskStore(redis, `t${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await redis.quit();
});

function makeTask(overrides: Partial<Task> = {}, createdAt = new Date()): Task {
  return {
    task_id: newTaskId('nessus', 'scanner1', createdAt),
    trace_id: 'trace-1',
    scan_type: 'untrusted',
    name: 'weekly',
    description: null,
    targets: ['192.168.1.0/24'],
    target_count: 256,
    scanner_pool: 'nessus',
    scanner_instance: 'scanner1',
    instance_pinned: false,
    schema_profile: 'brief',
    status: 'queued',
    created_at: createdAt.toISOString(),
    updated_at: createdAt.toISOString(),
    started_at: null,
    completed_at: null,
    error: null,
    nessus_scan_id: null,
    raw_scanner_status: null,
    progress: null,
    has_credentials: false,
    idempotency_key_hash: null,
    cancel_requested: false,
    results_summary: null,
    ...overrides,
  };
}

describe('task ids', () => {
  it('look like ne_scan_<date>_<time>_<hex>, as agents already store them, and validate', () => {
    const id = newTaskId('nessus', 'scanner1', new Date('2025-12-01T14:30:22Z'));
    expect(id).toMatch(/^ne_scan_20251201_143022_[0-9a-f]{8}$/);
    expect(isValidTaskId(id)).toBe(true);
    expect(isValidTaskId('../../etc/passwd')).toBe(false);
    expect(isValidTaskId('ne_scan_20251201_143022_a1b2c3d4/../x')).toBe(false);
  });
});

describe('TaskStore on real Redis', () => {
  it('stores and reads back a task with its typed fields', async () => {
    const task = makeTask();
    await store.create(task, { jobPayload: { hello: 'world' } });
    const back = await store.require(task.task_id);
    expect(back).toEqual(task);
    expect(await store.getJobPayload(task.task_id)).toEqual({ hello: 'world' });
  });

  it('creates exactly one task when two calls race with the same idempotency key', async () => {
    const a = makeTask();
    const b = makeTask();
    const [ra, rb] = await Promise.all([
      store.create(a, { idempotencyKeyHash: 'k1', paramsHash: 'p1' }),
      store.create(b, { idempotencyKeyHash: 'k1', paramsHash: 'p1' }),
    ]);
    expect([ra.created, rb.created].sort()).toEqual([false, true]);
    expect(ra.task.task_id).toBe(rb.task.task_id);
    const loser = ra.created ? b : a;
    expect(await store.get(loser.task_id)).toBeNull();
  });

  it('reports the claimed parameter hash so callers can detect a conflicting reuse', async () => {
    await store.create(makeTask(), { idempotencyKeyHash: 'k2', paramsHash: 'first' });
    const second = await store.create(makeTask(), { idempotencyKeyHash: 'k2', paramsHash: 'second' });
    expect(second.created).toBe(false);
    expect(second.paramsHash).toBe('first');
  });

  it('applies an update only from an allowed status (compare-and-set)', async () => {
    const task = makeTask();
    await store.create(task);
    expect(await store.update(task.task_id, { status: 'running' }, ['queued'])).toEqual({ applied: true, previous: 'queued' });
    expect(await store.update(task.task_id, { status: 'cancelled' }, ['queued'])).toEqual({ applied: false, previous: 'running' });
    expect((await store.require(task.task_id)).status).toBe('running');
    expect(await store.update('ne_scan_20000101_000000_00000000', { status: 'running' })).toEqual({ applied: false, previous: null });
  });

  it('lists newest first and fills the limit with matches deep in the index', async () => {
    const local = new TaskStore(redis, `l${randomBytes(4).toString('hex')}`);
    const start = Date.parse('2025-01-01T00:00:00Z');
    for (let i = 0; i < 120; i += 1) {
      await local.create(makeTask({ status: i % 40 === 0 ? 'failed' : 'completed' }, new Date(start + i * 1000)));
    }
    const failed = await local.list({ limit: 3, status: 'failed' });
    expect(failed).toHaveLength(3);
    expect(failed.map((t) => t.created_at)).toEqual([80, 40, 0].map((i) => new Date(start + i * 1000).toISOString()));
    const newest = await local.list({ limit: 2 });
    expect(newest[0]!.created_at).toBe(new Date(start + 119000).toISOString());
    expect((await local.countByStatus()).failed).toBe(3);
  });
});
