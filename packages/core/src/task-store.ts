import { AppError } from './errors.js';
import { FindingIndex, type HistoryRecord, type TaskPostings } from './finding-index.js';
import type { RedisClient } from './redis-connection.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { TASK_STATUSES, type Task, type TaskStatus } from './tasks.js';

/**
 * Creates the task and claims its idempotency key in one step: two identical calls racing each
 * other produce one task. Returns {1, task_id} when created, {0, existing_task_id, params_hash}
 * when the key was already claimed.
 * KEYS: task hash, by-created zset, then the idempotency key when there is one (no empty
 * placeholder: on a cluster '' hashes to slot 0 and the script would fail with CROSSSLOT)
 * ARGV: task_id, created_ms, idem_ttl_s, params_hash, then field/value pairs
 */
const CREATE_SCRIPT = `
if KEYS[3] then
  local existing = redis.call('GET', KEYS[3])
  if existing then
    local sep = string.find(existing, '|', 1, true)
    return {0, string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)}
  end
  redis.call('SET', KEYS[3], ARGV[1] .. '|' .. ARGV[4], 'EX', tonumber(ARGV[3]))
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('task id collision')
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
return {1, ARGV[1], ARGV[4]}
`;

/**
 * Patches a task only if it exists and its status is one of the allowed ones (compare-and-set),
 * so two processes cannot both move a task out of the same state.
 * KEYS: task hash. ARGV: allowed statuses as a JSON-encoded-string list joined by ',' ('' = any),
 * then field/value pairs. Returns {1, old_status} or {0, old_status} or {-1, ''} when missing.
 */
const UPDATE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {-1, ''} end
if ARGV[1] ~= '' then
  local allowed = false
  for s in string.gmatch(ARGV[1], '[^,]+') do
    if s == current then allowed = true end
  end
  if not allowed then return {0, current} end
end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return {1, current}
`;

export interface CreateTaskResult {
  created: boolean;
  task: Task;
  /** Hash of the parameters that claimed the idempotency key (compare to detect conflicts). */
  paramsHash: string;
}

export interface ListTasksQuery {
  limit: number;
  status?: TaskStatus;
  scanner_pool?: string;
  /** Extra predicate (CIDR-aware target match lives with the target parser). */
  match?: (task: Task) => boolean;
}

function encodeFields(fields: Partial<Task> & Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    // status stays a bare string so the Lua compare-and-set can read it.
    out.push(key, key === 'status' ? String(value) : JSON.stringify(value));
  }
  return out;
}

function decodeTask(raw: Record<string, string>): Task | null {
  if (!raw.status) return null;
  const task: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'status') task.status = value;
    else if (key === 'job_payload') continue;
    else {
      try {
        task[key] = JSON.parse(value);
      } catch {
        task[key] = value;
      }
    }
  }
  return task as unknown as Task;
}

export class TaskStore {
  readonly keys: RedisKeys;
  /** The cross-scan index (compare_scans, search_findings), updated with the status change to completed. */
  readonly index: FindingIndex;

  constructor(
    private readonly redis: RedisClient,
    prefix?: string,
  ) {
    this.keys = redisKeys(prefix);
    this.index = new FindingIndex(redis, this.keys);
  }

  async create(
    task: Task,
    options: { idempotencyKeyHash?: string; paramsHash?: string; idempotencyTtlSeconds?: number; jobPayload?: unknown } = {},
  ): Promise<CreateTaskResult> {
    const idemKey = options.idempotencyKeyHash ? this.keys.idempotency(options.idempotencyKeyHash) : null;
    const paramsHash = options.paramsHash ?? '';
    const fields = encodeFields({ ...task, ...(options.jobPayload !== undefined ? { job_payload: options.jobPayload } : {}) });
    const reply = (await this.redis.eval(
      CREATE_SCRIPT,
      idemKey === null ? 2 : 3,
      this.keys.task(task.task_id),
      this.keys.tasksByCreated,
      ...(idemKey === null ? [] : [idemKey]),
      task.task_id,
      String(Date.parse(task.created_at)),
      String(options.idempotencyTtlSeconds ?? 48 * 3600),
      paramsHash,
      ...fields,
    )) as [number, string, string];
    const [created, taskId, claimedHash] = reply;
    if (created === 1) return { created: true, task, paramsHash: claimedHash };
    const existing = await this.get(taskId);
    if (!existing) {
      // The key outlived its task (expired by housekeeping): the caller's key is free again.
      if (idemKey !== null) await this.redis.del(idemKey);
      return this.create(task, options);
    }
    return { created: false, task: existing, paramsHash: claimedHash };
  }

  async get(taskId: string): Promise<Task | null> {
    return decodeTask(await this.redis.hgetall(this.keys.task(taskId)));
  }

  async require(taskId: string): Promise<Task> {
    const task = await this.get(taskId);
    if (!task)
      throw new AppError('not_found', `no task with id '${taskId}' (it may have expired; list_tasks shows current ones)`, { details: { task_id: taskId } });
    return task;
  }

  /** Status and creation time of many tasks in one round trip (tasks that no longer exist are left out). */
  async statusesOf(taskIds: readonly string[]): Promise<Map<string, { status: TaskStatus; created_at: string }>> {
    const out = new Map<string, { status: TaskStatus; created_at: string }>();
    if (taskIds.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const id of taskIds) pipeline.hmget(this.keys.task(id), 'status', 'created_at');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, value], index) => {
      const [status, createdAt] = (value ?? []) as (string | null)[];
      if (!error && status && createdAt) out.set(taskIds[index]!, { status: status as TaskStatus, created_at: createdAt });
    });
    return out;
  }

  /** The stored job payload, used to re-enqueue a task whose enqueue was interrupted. */
  async getJobPayload<T>(taskId: string): Promise<T | null> {
    const raw = await this.redis.hget(this.keys.task(taskId), 'job_payload');
    return raw ? (JSON.parse(raw) as T) : null;
  }

  /**
   * Applies `patch` when the task's status is one of `from` (any status when omitted).
   * Returns the outcome and the status the task had.
   */
  async update(
    taskId: string,
    patch: Partial<Task>,
    from?: readonly TaskStatus[],
    /** The task joins the cross-scan index in the same atomic step, when the update applies. */
    indexed?: { record: HistoryRecord; postings: TaskPostings },
  ): Promise<{ applied: boolean; previous: TaskStatus | null }> {
    const fields = encodeFields({ ...patch, updated_at: new Date().toISOString() });
    const reply = indexed
      ? await this.index.completeTask(taskId, from, fields, indexed.record, indexed.postings)
      : ((await this.redis.eval(UPDATE_SCRIPT, 1, this.keys.task(taskId), from ? from.join(',') : '', ...fields)) as [number, string]);
    const [code, previous] = reply;
    if (code === -1) return { applied: false, previous: null };
    return { applied: code === 1, previous: previous as TaskStatus };
  }

  /** Newest first; scans the index in batches until `limit` matches are found or it is exhausted. */
  async list(query: ListTasksQuery): Promise<Task[]> {
    const out: Task[] = [];
    const batch = Math.max(50, query.limit * 2);
    for (let start = 0; out.length < query.limit; start += batch) {
      const ids = await this.redis.zrevrange(this.keys.tasksByCreated, start, start + batch - 1);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.task(id));
      const replies = (await pipeline.exec()) ?? [];
      for (const [error, raw] of replies) {
        if (error) throw error;
        const task = decodeTask(raw as Record<string, string>);
        if (!task) continue;
        if (query.status && task.status !== query.status) continue;
        if (query.scanner_pool && task.scanner_pool !== query.scanner_pool) continue;
        if (query.match && !query.match(task)) continue;
        out.push(task);
        if (out.length >= query.limit) break;
      }
      if (ids.length < batch) break;
    }
    return out;
  }

  /** Ids created before `beforeMs` (oldest first), for housekeeping. */
  async idsCreatedBefore(beforeMs: number, max = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.tasksByCreated, '-inf', beforeMs, 'LIMIT', 0, max);
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    let cursor = 0;
    const ids = await this.redis.zrange(this.keys.tasksByCreated, 0, -1);
    while (cursor < ids.length) {
      const slice = ids.slice(cursor, cursor + 500);
      cursor += 500;
      const pipeline = this.redis.pipeline();
      for (const id of slice) pipeline.hget(this.keys.task(id), 'status');
      for (const [, status] of (await pipeline.exec()) ?? []) {
        if (typeof status === 'string' && status in counts) counts[status as TaskStatus] += 1;
      }
    }
    return counts;
  }

  async delete(taskId: string): Promise<void> {
    await this.redis.multi().del(this.keys.task(taskId)).zrem(this.keys.tasksByCreated, taskId).exec();
  }

  async recordDuration(pool: string, seconds: number): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.recentDurations(pool), String(Math.round(seconds)))
      .ltrim(this.keys.recentDurations(pool), 0, 49)
      .exec();
  }

  async recentDurations(pool: string): Promise<number[]> {
    const raw = await this.redis.lrange(this.keys.recentDurations(pool), 0, 49);
    return raw.map(Number).filter((n) => Number.isFinite(n) && n >= 0);
  }

  async publishCancel(taskId: string): Promise<void> {
    await this.redis.publish(this.keys.cancelChannel, taskId);
  }
}
