import { describe, expect, it } from '@jest/globals';
import { AppError, type Task, type TaskStatus } from '@nessus-mcp/core';
import { getScanStatus } from '../src/services/scan-status.js';
import type { CallContext, ServiceContext } from '../src/services/service-context.js';
import { SettledTasks } from '../src/services/settled-tasks.js';

/** A task store standing in for Redis: counts reads, and its records can change or go. */
class CountingStore {
  readonly records = new Map<string, Task>();
  reads = 0;

  put(taskId: string, status: TaskStatus): void {
    this.records.set(taskId, { task_id: taskId, status, progress: status === 'running' ? 10 : null, targets: [] } as unknown as Task);
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

describe('get_scan_status of a settled task', () => {
  const ID = 'ne_scan_20261206_101500_0a1b2c3d';
  const setUp = (): { store: CountingStore; context: ServiceContext; call: CallContext } => {
    const store = new CountingStore();
    // Neither view reads more of the context than this: no queue position (not queued), no live
    // progress (no Nessus scan id).
    const context = { settled: new SettledTasks(store) } as unknown as ServiceContext;
    return { store, context, call: {} as CallContext };
  };

  it('builds the view once per kept record and hands out that view', async () => {
    const { store, context, call } = setUp();
    store.put(ID, 'completed');
    const first = await getScanStatus(context, ID, call);
    expect(first).toMatchObject({ task_id: ID, status: 'completed', progress: 100 });
    expect(await getScanStatus(context, ID, call)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('builds a new view on every call while the task can still change', async () => {
    const { store, context, call } = setUp();
    store.put(ID, 'running');
    const first = await getScanStatus(context, ID, call);
    expect(first).toMatchObject({ status: 'running', progress: 10 });
    store.records.set(ID, { ...store.records.get(ID)!, progress: 55 });
    const second = await getScanStatus(context, ID, call);
    expect(second).not.toBe(first);
    expect(Object.isFrozen(second)).toBe(false);
    expect(second.progress).toBe(55);
  });
});
