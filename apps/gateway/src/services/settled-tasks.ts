import { TRANSITIONS, type Task, type TaskStatus, type TaskStore } from '@nessus-mcp/core';

/** How long a settled task's record is served from memory. */
export const SETTLED_TASK_TTL_MS = 5_000;

/** A status with no way out (completed, timeout, cancelled): nothing but deletion changes such a task. */
export function isSettled(status: TaskStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/**
 * The records of tasks in a state with no way out (completed, timeout, cancelled), kept in memory
 * for a few seconds. Nothing changes such a record but its deletion by retention, days later, so
 * status polls and results pages of a finished scan need not read Redis on every call; a deleted
 * task is seen as gone within `ttlMs`. A failed task is read every time: a retry from the failed
 * set queues it again. Callers get the shared object and must not change it.
 */
export class SettledTasks {
  private readonly entries = new Map<string, { task: Task; until: number }>();

  constructor(
    private readonly tasks: Pick<TaskStore, 'require'>,
    private readonly ttlMs = SETTLED_TASK_TTL_MS,
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The task's record, or `not_found` as `TaskStore.require` says it. */
  async require(taskId: string): Promise<Task> {
    const now = this.now();
    const kept = this.entries.get(taskId);
    if (kept !== undefined && kept.until > now) return kept.task;
    if (kept !== undefined) this.entries.delete(taskId);
    const task = await this.tasks.require(taskId);
    if (isSettled(task.status) && this.ttlMs > 0) {
      // Oldest first out: a Map iterates in insertion order.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(taskId, { task, until: now + this.ttlMs });
    }
    return task;
  }
}
