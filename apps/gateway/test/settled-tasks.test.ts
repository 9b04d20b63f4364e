import { describe, expect, it } from '@jest/globals';
import { AppError, type Task, type TaskStatus } from '@nessus-mcp/core';
import { SettledTasks } from '../src/services/settled-tasks.js';

/** A task store standing in for Redis: counts reads, and its records can change or go. */
class CountingStore {
  readonly records = new Map<string, Task>();
  reads = 0;

  put(taskId: string, status: TaskStatus): void {
    this.records.set(taskId, { task_id: taskId, status } as Task);
  }

  async require(taskId: string): Promise<Task> {
    this.reads += 1;
    const task = this.records.get(taskId);
    if (!task) throw new AppError('not_found', `no task with id '${taskId}'`);
    return { ...task };
  }
}

describe('SettledTasks', () => {
  const setUp = (): { store: CountingStore; settled: SettledTasks; clock: { now: number } } => {
    const store = new CountingStore();
    const clock = { now: 1_000_000 };
    return { store, settled: new SettledTasks(store, 5_000, 2, () => clock.now), clock };
  };

  it('reads a completed, cancelled or timed-out task once within the time it is kept', async () => {
    const { store, settled } = setUp();
    for (const status of ['completed', 'cancelled', 'timeout'] as const) {
      store.put(status, status);
      store.reads = 0;
      await settled.require(status);
      await settled.require(status);
      expect(store.reads).toBe(1);
    }
  });

  it('reads a task that can still change every time: queued, running, and failed (a retry queues it again)', async () => {
    const { store, settled } = setUp();
    store.put('t', 'running');
    await settled.require('t');
    store.put('t', 'failed');
    expect((await settled.require('t')).status).toBe('failed');
    store.put('t', 'queued');
    expect((await settled.require('t')).status).toBe('queued');
    expect(store.reads).toBe(3);
  });

  it('sees a deleted task as gone once the time it is kept has passed', async () => {
    const { store, settled, clock } = setUp();
    store.put('t', 'completed');
    await settled.require('t');
    store.records.delete('t');
    clock.now += 4_999;
    expect((await settled.require('t')).status).toBe('completed');
    clock.now += 1;
    await expect(settled.require('t')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keeps no more than its bound, dropping the oldest first', async () => {
    const { store, settled } = setUp();
    for (const id of ['a', 'b', 'c']) store.put(id, 'completed');
    for (const id of ['a', 'b', 'c']) await settled.require(id);
    store.reads = 0;
    await settled.require('c');
    await settled.require('b');
    expect(store.reads).toBe(0);
    await settled.require('a');
    expect(store.reads).toBe(1);
  });
});
