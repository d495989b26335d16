import type { Redis } from 'ioredis';
import type { SqlQuery } from '../db/database.js';
import type { RedisFallback } from '../redis/redis-fallback.js';
import { deleteEndedWindows, hitWindows } from './ratelimit.store.js';

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
 * Shared by every worker and instance through PostgreSQL when there is no Redis: upserts on an
 * UNLOGGED table, the row lock making concurrent hits on one key add up exactly. Hits are grouped
 * like a group commit: while one upsert is on its way, the hits that arrive wait and go together in
 * the next one (one statement for all their keys, keys in order so two instances never deadlock).
 * Every hit is still counted before its request goes on, and each caller sees the count its own hit
 * brought the key to; under load this costs a statement per batch, not per request. Redis is still
 * the faster option. `deleteExpiredWindows` sweeps it.
 */
export class PgRateLimitStore implements RateLimitStore {
  private pending = new Map<string, { resolve(w: WindowCount): void; reject(e: unknown): void; cost: number }[]>();
  private flushing = false;

  constructor(
    private readonly sql: SqlQuery,
    private readonly windowMs = 60_000,
  ) {}

  hit(key: string, cost: number): Promise<WindowCount> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject, cost });
      else this.pending.set(key, [{ resolve, reject, cost }]);
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.size) {
        const batch = this.pending;
        this.pending = new Map();
        const keys = [...batch.keys()].sort();
        const costs = keys.map((k) => batch.get(k)!.reduce((sum, w) => sum + w.cost, 0));
        try {
          const rows = await hitWindows(this.sql, keys, costs, this.windowMs / 1000);
          for (const row of rows) {
            const waiters = batch.get(row.key)!;
            // As if the hits had come one after another: each caller sees the count after its own.
            let count = row.count - waiters.reduce((sum, w) => sum + w.cost, 0);
            for (const w of waiters) w.resolve({ count: (count += w.cost), resetInMs: Math.max(0, row.reset_in_ms) });
          }
        } catch (error) {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
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
    return this.redis.attempt(
      'ratelimit',
      () => this.shared.hit(key, cost),
      () => this.local.hit(key, cost),
    );
  }
}
