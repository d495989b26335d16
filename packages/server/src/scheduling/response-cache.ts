import type { Redis } from 'ioredis';
import type { RedisFallback } from '../redis/redis-fallback.js';
import type { Scope } from '../events/slot-events.js';

export type { Scope };

/**
 * Cached public availability answers, valid while the generation of every scope they read is
 * unchanged. A committed slot change bumps its scopes' generations before the response of the
 * request that made it is sent, so a later read (on any instance) never gets an answer computed
 * before that commit: an entry carries the generations read *before* its query ran.
 */
export interface CachedAnswer {
  gens: number[];
  result: unknown;
}

export interface ResponseCacheStore {
  generations(scopes: Scope[]): Promise<number[]>;
  bump(scopes: Scope[]): Promise<void>;
  get(key: string): Promise<CachedAnswer | null>;
  set(key: string, value: CachedAnswer): Promise<void>;
}

const sameGens = (a: number[], b: number[]) => a.length === b.length && a.every((g, i) => g === b[i]);

/** One process: generations and entries in memory (embedded mode, or no Redis). */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  private readonly gens = new Map<Scope, number>();
  private readonly entries = new Map<string, { value: CachedAnswer; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    // A month of a busy scope is a few hundred KB of objects: a thousand bounds the memory.
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  async generations(scopes: Scope[]): Promise<number[]> {
    return scopes.map((s) => this.gens.get(s) ?? 0);
  }

  async bump(scopes: Scope[]): Promise<void> {
    for (const s of scopes) this.gens.set(s, (this.gens.get(s) ?? 0) + 1);
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: CachedAnswer): Promise<void> {
    const now = this.now();
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      // Maps iterate in insertion order: the first key is the oldest entry.
      while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Generations outlive every entry by far, so a generation key expiring never revives an old entry. */
const GENERATION_TTL_MS = 24 * 60 * 60_000;

/**
 * Shared by every instance: generations and entries in Redis, with this process's memory in front
 * of the entries (an entry found locally is still checked against Redis's generations).
 */
export class RedisResponseCacheStore implements ResponseCacheStore {
  private readonly local: MemoryResponseCacheStore;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {
    this.local = new MemoryResponseCacheStore(ttlMs);
  }

  async generations(scopes: Scope[]): Promise<number[]> {
    const values = await this.redis.mget(scopes.map((s) => `rc:gen:${s}`));
    return values.map((v) => (v ? Number(v) : 0));
  }

  async bump(scopes: Scope[]): Promise<void> {
    const pipeline = this.redis.multi();
    for (const s of scopes) pipeline.incr(`rc:gen:${s}`).pexpire(`rc:gen:${s}`, GENERATION_TTL_MS);
    const replies = await pipeline.exec().catch((err: unknown) => [[err, null] as [unknown, unknown]]);
    const failed = replies ? replies.find(([err]) => err)?.[0] : new Error('generation bump discarded');
    if (failed) {
      // Other instances may serve their entries until the TTL ends; this one stops at once.
      this.local.clear();
      throw failed;
    }
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const local = await this.local.get(key);
    if (local) return local;
    const raw = await this.redis.get(`rc:e:${key}`);
    if (!raw) return null;
    const value = JSON.parse(raw) as CachedAnswer;
    await this.local.set(key, value);
    return value;
  }

  async set(key: string, value: CachedAnswer): Promise<void> {
    await this.local.set(key, value);
    await this.redis.set(`rc:e:${key}`, JSON.stringify(value), 'PX', this.ttlMs);
  }
}

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/**
 * Requests (their GraphQL context) whose answer the cache will keep. Such an answer is read on the
 * primary, never a replica: kept under the generation its lookup saw, it must hold every write that
 * bumped that generation, which a lagging replica may not have replayed yet.
 */
const keptAnswers = new WeakSet<object>();
export const willKeep = (context: object) => keptAnswers.add(context);
export const isKept = (context: object) => keptAnswers.has(context);

/**
 * The cache as the GraphQL layer uses it. Redis trouble never serves a stale answer: a read that
 * cannot check generations computes afresh; a bump that fails is logged, and the TTL bounds what
 * other instances may still serve (this instance forgets its local entries at once).
 */
export class ResponseCache {
  constructor(
    private readonly store: ResponseCacheStore,
    private readonly redis?: RedisFallback,
    private readonly onBumpFailed: (err: unknown) => void = () => {},
  ) {}

  /**
   * The kept answer when no scope changed since it was computed; otherwise the generations to keep a
   * fresh answer under (read before that answer's query runs); null when the cache cannot be checked.
   */
  async lookup(key: string, scopes: Scope[]): Promise<{ hit: unknown } | { gens: number[] } | null> {
    if (this.redis && !this.redis.up) {
      this.redis.fellBack('response-cache');
      return null;
    }
    try {
      const gens = await this.store.generations(scopes);
      const cached = await this.store.get(key);
      return cached && sameGens(cached.gens, gens) ? { hit: cached.result } : { gens };
    } catch (err) {
      this.redis?.fellBack('response-cache', err);
      return null;
    }
  }

  keep(key: string, gens: number[], result: unknown): Promise<void> {
    return this.store.set(key, { gens, result }).catch(() => {});
  }

  /** Called right after a commit; resolves once every instance will miss these scopes' entries. */
  invalidate(scopes: Scope[]): Promise<void> {
    if (!scopes.length) return Promise.resolve();
    return this.store.bump(scopes).catch((err: unknown) => this.onBumpFailed(err));
  }
}
