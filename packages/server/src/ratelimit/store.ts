import type { Redis } from 'ioredis';
import type { SqlQuery } from '../db/database.js';
import type { RedisFallback } from '../redis/redis-fallback.js';
import { deleteEndedWindows, hitWindow } from './ratelimit.store.js';

/** One hit's outcome: the client's count in the current window and when that window ends. */
export interface WindowCount {
  count: number;
  resetInMs: number;
}

/**
 * Fixed windows that start at a client's first hit: the key counts hits and expires `windowMs`
 * later. Hits past the limit still count but never extend the window, so a client that keeps
 * hammering is let in again when its window ends. At a window edge a client can get up to twice
 * the limit within one minute; that is the price of one counter per key (no per-hit log).
 */
export interface RateLimitStore {
  /** Adds `cost` hits to `key` and returns the new count. */
  hit(key: string, cost: number): Promise<WindowCount>;
}

// INCRBY and PEXPIRE in one atomic step: no window can lose its expiry between two commands.
const HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}`;

/** Shared by every instance on the same Redis, so a client's limit holds across the fleet. */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs = 60_000,
    private readonly prefix = 'slotwise:ratelimit:',
  ) {}

  async hit(key: string, cost: number): Promise<WindowCount> {
    const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, cost, this.windowMs)) as [number, number];
    return { count, resetInMs: ttl };
  }
}

/**
 * Shared by every worker and instance through PostgreSQL when there is no Redis: one upsert per hit
 * on an UNLOGGED table, the row lock making concurrent hits on one key add up exactly. Costs a
 * statement per limited request; Redis is the faster option. `deleteExpiredWindows` sweeps it.
 */
export class PgRateLimitStore implements RateLimitStore {
  constructor(
    private readonly sql: SqlQuery,
    private readonly windowMs = 60_000,
  ) {}

  async hit(key: string, cost: number): Promise<WindowCount> {
    const row = await hitWindow(this.sql, key, cost, this.windowMs / 1000);
    return { count: row.count, resetInMs: Math.max(0, row.reset_in_ms) };
  }
}

/** Background sweep of PgRateLimitStore's ended windows (a hit on an ended window restarts it anyway). */
export function deleteExpiredWindows(sql: SqlQuery): Promise<number> {
  return deleteEndedWindows(sql);
}

/**
 * One process only. Bounded: past `maxKeys`, ended windows go first, then the oldest ones, down to
 * 90% so that the sweep runs once per many new clients, not on every one.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, cost: number): Promise<WindowCount> {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.delete(key);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
      if (this.windows.size > this.maxKeys) this.evict(now);
    }
    window.count += cost;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  private evict(now: number) {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
    // Map order is insertion order: the first entries are the windows that end soonest.
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxKeys * 0.9) break;
      this.windows.delete(key);
    }
  }
}

/**
 * The shared Redis counts while Redis answers; this process's own counts while it does not. Limits
 * then hold per instance instead of per fleet: looser, but requests go on (fail open).
 */
export class FallbackRateLimitStore implements RateLimitStore {
  constructor(
    private readonly shared: RateLimitStore,
    private readonly local: RateLimitStore,
    private readonly redis: RedisFallback,
  ) {}

  hit(key: string, cost: number): Promise<WindowCount> {
    return this.redis.attempt('ratelimit', () => this.shared.hit(key, cost), () => this.local.hit(key, cost));
  }
}
