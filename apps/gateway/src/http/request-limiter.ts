import { createHash } from 'node:crypto';
import type { Logger, RedisClient, RedisKeys } from '@nessus-mcp/core';
import { TokenBuckets } from './token-buckets.js';

/**
 * Token bucket in one hash per key, refilled from Redis's own clock (TIME) so gateways on hosts
 * whose clocks drift still share one rate. One key per call: legal on a cluster wherever it hashes.
 *   KEYS[1]  the bucket
 *   ARGV[1]  tokens per second, ARGV[2] burst, ARGV[3] the cost of this request,
 *   ARGV[4]  tokens wanted in all (>= the cost: the rest is leased to the calling gateway),
 *   ARGV[5]  unspent tokens of this gateway's previous lease, given back first
 * Returns {granted, 0} when at least the cost was taken (granted >= cost), else {0, whole seconds
 * to wait}. The caller never asks for more than the burst.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local given = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens, at = burst, now
end
if now > at then
  tokens = tokens + (now - at) / 1000 * rate
  at = now
end
tokens = math.min(burst, tokens + given)
local granted = 0
local wait = 0
if tokens >= cost then
  granted = math.max(cost, math.min(want, math.floor(tokens)))
  tokens = tokens - granted
else
  wait = math.max(1, math.ceil((cost - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
-- A bucket left alone refills to full: past that it carries nothing worth keeping.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, wait}
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

/** How long a gateway may hold tokens it leased and has not spent. */
export const LEASE_MS = 1_000;
/** Past this many keys with a lease, expired leases are dropped. */
const MAX_LEASES = 10_000;

/** Tokens this process took from a bucket ahead of its requests. */
interface Lease {
  tokens: number;
  /** Spent from this lease so far: the demand seen, which sizes the next lease. */
  spent: number;
  until: number;
}

/**
 * Per-key request limits shared by every gateway through Redis: with N gateways a per-process
 * limit would allow N times the rate. A busy key does not cost a round trip per request: each
 * refill leases a few tokens more than the request needs, as many as this process spent from its
 * previous lease (doubling while leases run dry, at most a tenth of the burst), spent locally for
 * up to `LEASE_MS` and given back to the bucket at the next refill when unspent. A key with one
 * request at a time still leases one token per request, so its limit is exactly as configured; a
 * busy one is held at most a tenth of the burst below it, never above it, as no request passes
 * without a token taken from the shared bucket. When Redis does not answer, each process falls
 * back to its own buckets: the gateway stays up (its services report Redis themselves) and a
 * runaway agent is still slowed, at up to N times the rate.
 */
export class RequestLimiter {
  private readonly fallback: TokenBuckets;
  private fallbackLogged = false;
  private readonly leases = new Map<string, Lease>();
  /** The refill in flight per key: concurrent requests wait for it rather than send their own. */
  private readonly refills = new Map<string, Promise<LimitDecision>>();
  private readonly maxLease: number;
  private trips = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<RedisKeys, 'rateLimit'>,
    readonly limit: RateLimit,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number = Date.now,
  ) {
    this.fallback = new TokenBuckets(limit.perSecond, limit.burst);
    this.maxLease = Math.max(1, Math.floor(limit.burst / 10));
  }

  /** Round trips to Redis so far. */
  get roundTrips(): number {
    return this.trips;
  }

  /** Takes `cost` requests from `key`'s bucket (a token id, or `ip:<address>`). */
  async take(key: string, cost = 1): Promise<LimitDecision> {
    if (cost > this.limit.burst) return { allowed: false, tooLarge: true };
    for (;;) {
      const lease = this.leases.get(key);
      if (lease !== undefined && lease.tokens >= cost && lease.until > this.now()) {
        lease.tokens -= cost;
        lease.spent += cost;
        return { allowed: true };
      }
      const pending = this.refills.get(key);
      if (pending === undefined) break;
      const decision = await pending;
      if (!decision.allowed) return decision;
    }
    const refill = this.refill(key, cost).finally(() => this.refills.delete(key));
    this.refills.set(key, refill);
    return refill;
  }

  private async refill(key: string, cost: number): Promise<LimitDecision> {
    const previous = this.leases.get(key);
    const now = this.now();
    // Always safe to give back: they were taken from this bucket, and it never fills past its burst.
    const unspent = previous?.tokens ?? 0;
    // Demand seen on the previous lease: all of it spent before it expired means more is wanted.
    const demand = previous === undefined ? 0 : previous.tokens === 0 && previous.until > now ? previous.spent * 2 : previous.spent;
    const want = Math.min(this.limit.burst, Math.max(cost, Math.min(this.maxLease, demand)));
    this.leases.delete(key);
    if (this.leases.size >= MAX_LEASES) this.dropExpiredLeases(now);
    let granted: number;
    let wait: number;
    try {
      [granted, wait] = await this.run(this.keys.rateLimit(key), [this.limit.perSecond, this.limit.burst, cost, want, unspent].map(String));
      this.fallbackLogged = false;
    } catch (error) {
      if (!this.fallbackLogged) {
        this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rate limits fall back to this process until Redis answers');
        this.fallbackLogged = true;
      }
      wait = 0;
      for (let i = 0; i < cost && wait === 0; i += 1) wait = this.fallback.take(key);
      return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: wait };
    }
    if (granted < cost) return { allowed: false, retryAfterSeconds: Math.max(1, wait) };
    this.leases.set(key, { tokens: granted - cost, spent: cost, until: this.now() + LEASE_MS });
    return { allowed: true };
  }

  /** Keys no longer calling: their few unspent tokens are left to refill the bucket by its rate. */
  private dropExpiredLeases(now: number): void {
    for (const [key, lease] of this.leases) if (lease.until <= now) this.leases.delete(key);
  }

  private async run(key: string, args: string[]): Promise<[number, number]> {
    this.trips += 1;
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, 1, key, ...args);
    } catch (error) {
      // First call on a node (or after a restart): the script is not cached there yet.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.redis.eval(TAKE_SCRIPT, 1, key, ...args);
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
      throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`);
    }
    return [reply[0], reply[1]];
  }
}
