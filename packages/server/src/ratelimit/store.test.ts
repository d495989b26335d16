import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/databases.js';
import { waitFor } from '../../test/kit/wait.js';
import { MemoryRateLimitStore, RedisRateLimitStore } from './store.js';

describe('MemoryRateLimitStore', () => {
  it('counts hits in a window that starts at the first hit and does not grow with later hits', async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore(60_000, 100, () => now);
    expect(await store.hit('a', 1)).toEqual({ count: 1, resetInMs: 60_000 });
    now += 59_000;
    expect(await store.hit('a', 2)).toEqual({ count: 3, resetInMs: 1_000 });
    now += 1_000;
    expect(await store.hit('a', 1)).toEqual({ count: 1, resetInMs: 60_000 });
  });

  it('stays bounded: ended windows go first, then the oldest', async () => {
    let now = 0;
    const store = new MemoryRateLimitStore(1_000, 10, () => now);
    for (let i = 0; i < 10; i++) await store.hit(`old-${i}`, 1);
    now = 500;
    for (let i = 0; i < 10_000; i++) await store.hit(`new-${i}`, 1);
    expect(store.size).toBeLessThanOrEqual(10);
    // The newest window is kept and still counts.
    expect((await store.hit('new-9999', 1)).count).toBe(2);
  });
});

describe('RedisRateLimitStore', () => {
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(() => redis.disconnect());

  it('counts atomically under concurrency and expires the window once', async () => {
    const store = new RedisRateLimitStore(redis, 400);
    const key = `test-${randomUUID()}`;
    const hits = await Promise.all(Array.from({ length: 50 }, () => store.hit(key, 1)));
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(hits.every((h) => h.resetInMs > 0 && h.resetInMs <= 400)).toBe(true);
    const ttl = () => redis.pttl(`slotwise:ratelimit:${key}`);
    await waitFor(async () => (await ttl()) < 200, 'the window past its middle', 2000, 10);
    // A later hit does not push the window's end out.
    expect((await store.hit(key, 1)).resetInMs).toBeLessThan(200);
    await waitFor(async () => (await ttl()) === -2, 'the window to expire', 2000, 10);
    expect((await store.hit(key, 2)).count).toBe(2);
  });
});
