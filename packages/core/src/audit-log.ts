import type { RedisClient } from './redis-connection.js';
import { redisKeys } from './redis-keys.js';

/** What the audit trail records; `refused` outcomes carry the error code that refused them. */
export const AUDIT_ACTIONS = ['scan.submit', 'scan.cancel', 'scan.scope_violation', 'admin.queue', 'access.denied'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  /** ISO time the record was written. */
  time: string;
  /** The access-file name of the caller (`operator` for AUTH_TOKEN, `oauth:<sub>`, `worker`). */
  client: string;
  action: AuditAction;
  task_id: string | null;
  targets: string[] | null;
  /** `ok`, or the error code the action ended with (`forbidden`, `out_of_scope`, ...). */
  outcome: string;
  /** A short non-secret explanation (the scope missing, the field that differed, the admin route). */
  detail: string | null;
}

export interface AuditEntry extends AuditRecord {
  /** The stream entry id (`<ms>-<seq>`): pass it as `before` to read the page after this one. */
  id: string;
}

/**
 * The append-only audit trail, a Redis stream shared by the gateway and the workers. Every write
 * trims entries older than the retention (XADD MINID ~), so the stream stays bounded without a
 * housekeeping job; `~` lets Redis trim whole macro nodes, which keeps the trim O(1) amortised.
 */
export class AuditLog {
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix = 'nmcp',
    private readonly retentionDays: () => number = () => 90,
  ) {
    this.key = redisKeys(prefix).audit;
  }

  async record(entry: Omit<AuditRecord, 'time'> & { time?: string }): Promise<string> {
    const record: AuditRecord = { ...entry, time: entry.time ?? new Date().toISOString() };
    const oldest = Date.now() - this.retentionDays() * 86_400_000;
    const id = await this.redis.xadd(this.key, 'MINID', '~', String(oldest), '*', 'record', JSON.stringify(record));
    return id ?? '';
  }

  /** Newest first; `before` is an entry id from an earlier page (exclusive). */
  async list(options: { limit: number; before?: string }): Promise<AuditEntry[]> {
    const end = options.before === undefined ? '+' : `(${options.before}`;
    const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', options.limit);
    return rows.map(([id, fields]) => {
      const index = fields.indexOf('record');
      const record = JSON.parse(index === -1 ? '{}' : (fields[index + 1] ?? '{}')) as AuditRecord;
      return { id, ...record };
    });
  }
}
