import type { Redis } from 'ioredis';
import type { SqlQuery } from '../db/database.js';
import type { ExposureVariant } from './exposure.js';
import type { RedisFallback } from '../redis/redis-fallback.js';
import { deleteExpiredExposureRows, selectExposure, upsertExposure } from './scheduling.store.js';

/** Seed 003: an exposure stays the same for 7 minutes. */
export const EXPOSURE_TTL_MS = 7 * 60_000;

export interface StickyExposure {
  slotIds: string[];
  k: number;
  variant: ExposureVariant;
}

export interface ExposureCache {
  get(key: string): Promise<StickyExposure | null>;
  set(key: string, value: StickyExposure): Promise<void>;
}

/** `expose:{user}:{date}:{scope}` as the seed names it. */
export function exposureKey(subject: string, date: string, scope: string): string {
  return `expose:${subject}:${date}:${scope}`;
}

/** Shared by every instance when Redis is configured. */
export class RedisExposureCache implements ExposureCache {
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<StickyExposure | null> {
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as StickyExposure) : null;
  }

  async set(key: string, value: StickyExposure): Promise<void> {
    await this.redis.set(key, JSON.stringify(value), 'PX', EXPOSURE_TTL_MS);
  }
}

/**
 * Shared by every worker and instance through PostgreSQL when there is no Redis (an UNLOGGED table;
 * `deleteExpiredExposures` sweeps it). Times are the database's, one clock for all instances.
 */
export class PgExposureCache implements ExposureCache {
  constructor(private readonly sql: SqlQuery) {}

  get(key: string): Promise<StickyExposure | null> {
    return selectExposure<StickyExposure>(this.sql, key);
  }

  set(key: string, value: StickyExposure): Promise<void> {
    return upsertExposure(this.sql, key, value, EXPOSURE_TTL_MS / 1000);
  }
}

/** Background sweep of PgExposureCache's ended entries (reads already skip them). */
export function deleteExpiredExposures(sql: SqlQuery): Promise<number> {
  return deleteExpiredExposureRows(sql);
}

/** One process only (embedded mode). When the map is full, expired entries go first, then the oldest. */
export class MemoryExposureCache implements ExposureCache {
  private readonly entries = new Map<string, { value: StickyExposure; expiresAt: number }>();

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly sweepAbove = 50_000,
  ) {}

  async get(key: string): Promise<StickyExposure | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now().getTime()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: StickyExposure): Promise<void> {
    const now = this.now().getTime();
    if (this.entries.size >= this.sweepAbove) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      // Maps iterate in insertion order: the first key is the oldest entry.
      while (this.entries.size >= this.sweepAbove) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + EXPOSURE_TTL_MS });
  }
}

/**
 * Redis while it answers, this process's memory while it does not: an exposure then stays sticky on
 * this instance only, and the page still answers.
 */
export class FallbackExposureCache implements ExposureCache {
  constructor(
    private readonly shared: ExposureCache,
    private readonly local: ExposureCache,
    private readonly redis: RedisFallback,
  ) {}

  get(key: string): Promise<StickyExposure | null> {
    return this.redis.attempt(
      'exposure-cache',
      () => this.shared.get(key),
      () => this.local.get(key),
    );
  }

  set(key: string, value: StickyExposure): Promise<void> {
    return this.redis.attempt(
      'exposure-cache',
      () => this.shared.set(key, value),
      () => this.local.set(key, value),
    );
  }
}
