import type { RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { ScanType, TaskStatus } from './tasks.js';

/**
 * The cross-scan index: which completed scans name a CVE, a plugin or a host, and the history
 * record of every completed scan (kept `retention.history_days`, beyond its full results).
 * Postings are task ids in sorted sets scored by completion time, so "newest first" is a range
 * read. A task enters the index in the same Lua script that makes it `completed`, and leaves it
 * in one script when retention deletes its fingerprint: no reader sees one without the other.
 *
 * Keys are many (one per CVE), but all share the key prefix: on a Redis Cluster its hash tag
 * (`{nessus-mcp}`) puts them in one slot, so the scripts stay legal there.
 */

/** What the index keeps of a completed scan, readable after its task record expired. */
export interface HistoryRecord {
  task_id: string;
  name: string;
  scan_type: ScanType;
  targets: string[];
  created_at: string;
  completed_at: string;
  hosts_scanned: number;
  /** When retention deleted the full results (only the fingerprint remains); null while retained. */
  store_expired_at: string | null;
}

/** The index keys of one scan (from its fingerprint). */
export interface TaskPostings {
  cves: readonly string[];
  plugins: readonly number[];
  /** Host identities, ReportHost names and FQDNs, lower-cased. */
  hosts: readonly string[];
}

export type PostingKind = 'cve' | 'plugin' | 'host';

export interface IndexedTask {
  task_id: string;
  completed_ms: number;
}

/**
 * Compare-and-set of the task's status (as the task store's update), and when it applies, the
 * task joins the index. KEYS: task hash, history zset, history hash, host-names zset, posting
 * zsets. ARGV: allowed statuses (',' joined, '' = any), score, task id, history JSON, host name
 * count h, h host names, then the task's field/value pairs.
 */
const COMPLETE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {-1, ''} end
if ARGV[1] ~= '' then
  local allowed = false
  for s in string.gmatch(ARGV[1], '[^,]+') do
    if s == current then allowed = true end
  end
  if not allowed then return {0, current} end
end
local h = tonumber(ARGV[5])
for i = 6 + h, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
if redis.call('ZSCORE', KEYS[2], ARGV[3]) == false then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  redis.call('HSET', KEYS[3], 'record', ARGV[4])
  for i = 5, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3]) end
  for i = 6, 5 + h do redis.call('ZINCRBY', KEYS[4], 1, ARGV[i]) end
end
return {1, current}
`;

/**
 * Adds a task to the index unless it is there (rebuilds). KEYS and ARGV as COMPLETE_SCRIPT's,
 * without the task hash, the statuses and the fields.
 */
const ADD_SCRIPT = `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) ~= false then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'record', ARGV[3])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2]) end
for i = 5, #ARGV do redis.call('ZINCRBY', KEYS[3], 1, ARGV[i]) end
return 1
`;

/** Removes a task from the index. KEYS: history zset, history hash, host-names zset, posting zsets. ARGV: task id, host names. */
const REMOVE_SCRIPT = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
for i = 2, #ARGV do
  if tonumber(redis.call('ZINCRBY', KEYS[3], -1, ARGV[i])) <= 0 then redis.call('ZREM', KEYS[3], ARGV[i]) end
end
return 1
`;

export class FindingIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  private postingKeys(postings: TaskPostings): string[] {
    return [
      ...postings.cves.map((cve) => this.keys.posting('cve', cve.toUpperCase())),
      ...postings.plugins.map((plugin) => this.keys.posting('plugin', String(plugin))),
      ...postings.hosts.map((host) => this.keys.posting('host', host.toLowerCase())),
    ];
  }

  /**
   * The task store's compare-and-set of a task's fields, which also indexes the task when it
   * applies. `fields` are the encoded field/value pairs.
   */
  async completeTask(
    taskId: string,
    allowed: readonly TaskStatus[] | undefined,
    fields: readonly string[],
    record: HistoryRecord,
    postings: TaskPostings,
  ): Promise<[number, string]> {
    const hosts = postings.hosts.map((host) => host.toLowerCase());
    const keys = [this.keys.task(taskId), this.keys.historyByCompleted, this.keys.history(taskId), this.keys.indexedHosts, ...this.postingKeys(postings)];
    const args = [
      allowed ? allowed.join(',') : '',
      String(Date.parse(record.completed_at)),
      taskId,
      JSON.stringify(record),
      String(hosts.length),
      ...hosts,
      ...fields,
    ];
    return (await this.redis.eval(COMPLETE_SCRIPT, keys.length, ...keys, ...args)) as [number, string];
  }

  /** Indexes a completed task that is missing from the index (rebuild); false when it was there. */
  async add(record: HistoryRecord, postings: TaskPostings): Promise<boolean> {
    const hosts = postings.hosts.map((host) => host.toLowerCase());
    const keys = [this.keys.historyByCompleted, this.keys.history(record.task_id), this.keys.indexedHosts, ...this.postingKeys(postings)];
    const added = (await this.redis.eval(
      ADD_SCRIPT,
      keys.length,
      ...keys,
      String(Date.parse(record.completed_at)),
      record.task_id,
      JSON.stringify(record),
      ...hosts,
    )) as number;
    return added === 1;
  }

  /** Takes a task out of the index and forgets its history record; false when it was not indexed. */
  async remove(taskId: string, postings: TaskPostings): Promise<boolean> {
    const keys = [this.keys.historyByCompleted, this.keys.history(taskId), this.keys.indexedHosts, ...this.postingKeys(postings)];
    const removed = (await this.redis.eval(REMOVE_SCRIPT, keys.length, ...keys, taskId, ...postings.hosts.map((host) => host.toLowerCase()))) as number;
    return removed === 1;
  }

  async record(taskId: string): Promise<HistoryRecord | null> {
    const raw = await this.redis.hget(this.keys.history(taskId), 'record');
    return raw ? (JSON.parse(raw) as HistoryRecord) : null;
  }

  async records(taskIds: readonly string[]): Promise<Map<string, HistoryRecord>> {
    const out = new Map<string, HistoryRecord>();
    if (taskIds.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const id of taskIds) pipeline.hget(this.keys.history(id), 'record');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, raw], index) => {
      if (!error && typeof raw === 'string') out.set(taskIds[index] ?? '', JSON.parse(raw) as HistoryRecord);
    });
    return out;
  }

  /** Marks that only the fingerprint of a task remains. */
  async markStoreExpired(taskId: string, at: Date): Promise<void> {
    const record = await this.record(taskId);
    if (!record || record.store_expired_at) return;
    await this.redis.hset(this.keys.history(taskId), 'record', JSON.stringify({ ...record, store_expired_at: at.toISOString() }));
  }

  /** Tasks naming the value, newest first. */
  async tasksFor(kind: PostingKind, value: string): Promise<IndexedTask[]> {
    const key = this.keys.posting(kind, kind === 'cve' ? value.toUpperCase() : kind === 'host' ? value.toLowerCase() : value);
    return pairs(await this.redis.zrevrange(key, 0, -1, 'WITHSCORES'));
  }

  /** For each host name, the tasks covering it, newest first (one round trip). */
  async tasksForHosts(hosts: readonly string[]): Promise<Map<string, IndexedTask[]>> {
    const out = new Map<string, IndexedTask[]>();
    if (hosts.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const host of hosts) pipeline.zrevrange(this.keys.posting('host', host.toLowerCase()), 0, -1, 'WITHSCORES');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, raw], index) => {
      if (!error) out.set(hosts[index] ?? '', pairs(raw as string[]));
    });
    return out;
  }

  /** Every host name any indexed scan covered (for CIDR searches). */
  async hostNames(): Promise<string[]> {
    return this.redis.zrange(this.keys.indexedHosts, 0, -1);
  }

  /** Indexed tasks completed before `beforeMs`, newest first, in pages. */
  async completedBefore(beforeMs: number, offset: number, count: number): Promise<IndexedTask[]> {
    return pairs(await this.redis.zrevrangebyscore(this.keys.historyByCompleted, `(${beforeMs}`, '-inf', 'WITHSCORES', 'LIMIT', offset, count));
  }

  /** Indexed tasks completed at or before `ms`, oldest first (retention). */
  async completedUpTo(ms: number, max: number): Promise<IndexedTask[]> {
    return pairs(await this.redis.zrangebyscore(this.keys.historyByCompleted, '-inf', ms, 'WITHSCORES', 'LIMIT', 0, max));
  }

  async isIndexed(taskId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.historyByCompleted, taskId)) !== null;
  }
}

function pairs(raw: readonly string[]): IndexedTask[] {
  const out: IndexedTask[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push({ task_id: raw[i] ?? '', completed_ms: Number(raw[i + 1]) });
  return out;
}
