import { createHash } from 'node:crypto';
import type { Logger, RedisClient, RedisKeys } from '@nessus-mcp/core';
import { TokenBuckets } from './token-buckets.js';

/**
 * Token bucket in one hash per key, refilled from Redis's own clock (TIME) so gateways on hosts
 * whose clocks drift still share one rate. One key per call: legal on a cluster wherever it hashes.
 *   KEYS[1]  the bucket
 *   ARGV[1]  tokens per second, ARGV[2] burst, ARGV[3] cost of this request
 * Returns 0 when the cost was taken, the whole seconds to wait otherwise, or -1 when the cost
 * is larger than the burst (it could never pass).
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
if cost > burst then return -1 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens, at = burst, now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) / 1000 * rate)
  at = now
end
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.max(1, math.ceil((cost - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
-- A bucket left alone refills to full: past that it carries nothing worth keeping.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once above the sustained rate. */
  burst: number;
}

/** What a request may do: go on, wait `retryAfterSeconds`, or never pass at this cost. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number } | { allowed: false; tooLarge: true };

/**
 * Per-key request limits shared by every gateway through Redis, in one round trip per request:
 * with N gateways a per-process limit would allow N times the rate. When Redis does not answer,
 * each process falls back to its own buckets: the gateway stays up (its services report Redis
 * themselves) and a runaway agent is still slowed, at up to N times the rate.
 */
export class RequestLimiter {
  private readonly fallback: TokenBuckets;
  private fallbackLogged = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<RedisKeys, 'rateLimit'>,
    readonly limit: RateLimit,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    this.fallback = new TokenBuckets(limit.perSecond, limit.burst);
  }

  /** Takes `cost` requests from `key`'s bucket (a token id, or `ip:<address>`). */
  async take(key: string, cost = 1): Promise<LimitDecision> {
    if (cost > this.limit.burst) return { allowed: false, tooLarge: true };
    let wait: number;
    try {
      wait = await this.run(this.keys.rateLimit(key), [String(this.limit.perSecond), String(this.limit.burst), String(cost)]);
      this.fallbackLogged = false;
    } catch (error) {
      if (!this.fallbackLogged) {
        this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rate limits fall back to this process until Redis answers');
        this.fallbackLogged = true;
      }
      wait = 0;
      for (let i = 0; i < cost && wait === 0; i += 1) wait = this.fallback.take(key);
    }
    if (wait === 0) return { allowed: true };
    if (wait < 0) return { allowed: false, tooLarge: true };
    return { allowed: false, retryAfterSeconds: wait };
  }

  private async run(key: string, args: string[]): Promise<number> {
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, 1, key, ...args);
    } catch (error) {
      // First call on a node (or after a restart): the script is not cached there yet.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.redis.eval(TAKE_SCRIPT, 1, key, ...args);
    }
    if (typeof reply !== 'number') throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`);
    return reply;
  }
}
