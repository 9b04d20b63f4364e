/**
 * The failed-login policy, per client address. Each address may fail `burst` times, regaining one
 * try every `refillSeconds`; once it has none left it is blocked: every request from it, with a
 * right token or a wrong one, is answered 429 until a try comes back. A right token therefore
 * gains an attacker nothing while blocked, and guessing is held to one try per `refillSeconds`.
 *
 * Nothing is counted against a token or client name: a wrong token carries no trustworthy name,
 * and blocking a name on failures would let anyone lock out that client from anywhere. Clients at
 * other addresses are never affected, successes never count, and a valid token's only brake is
 * its own rate limit.
 */
export class LoginThrottle {
  private readonly addresses = new Map<string, { tries: number; updated: number }>();

  constructor(
    readonly burst = 10,
    readonly refillSeconds = 60,
    private readonly maxTracked = 50_000,
  ) {}

  private current(address: string, now: number): { tries: number; updated: number } {
    const entry = this.addresses.get(address) ?? { tries: this.burst, updated: now };
    entry.tries = Math.min(this.burst, entry.tries + (now - entry.updated) / (this.refillSeconds * 1000));
    entry.updated = now;
    return entry;
  }

  /** Seconds until the address may try again; 0 when it is not blocked. */
  blockedFor(address: string, now = Date.now()): number {
    if (!this.addresses.has(address)) return 0;
    const entry = this.current(address, now);
    return entry.tries >= 1 ? 0 : Math.max(1, Math.ceil((1 - entry.tries) * this.refillSeconds));
  }

  /** Counts a failure; returns the seconds the address is now blocked for (0 if it has tries left). */
  recordFailure(address: string, now = Date.now()): number {
    const entry = this.current(address, now);
    entry.tries = Math.max(0, entry.tries - 1);
    this.addresses.set(address, entry);
    if (this.addresses.size > this.maxTracked) this.evictRecovered(now);
    return this.blockedFor(address, now);
  }

  /** Addresses back at a full allowance carry no state worth keeping (bounded memory under churn). */
  private evictRecovered(now: number): void {
    for (const [address, entry] of this.addresses) {
      if (entry.tries + (now - entry.updated) / (this.refillSeconds * 1000) >= this.burst) this.addresses.delete(address);
    }
  }
}
