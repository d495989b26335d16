import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { TEST_REDIS_URL } from '../../test/databases.js';
import { RedisFallback } from '../redis/redis-fallback.js';
import { MemoryResponseCacheStore, RedisResponseCacheStore, ResponseCache } from './response-cache.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.disconnect());

describe.each([
  ['memory', () => new ResponseCache(new MemoryResponseCacheStore(60_000))],
  ['redis', () => new ResponseCache(new RedisResponseCacheStore(redis, 60_000))],
])('ResponseCache (%s)', (_name, make) => {
  it('serves a kept answer until a change of its scope, then computes afresh', async () => {
    const cache = make();
    const scope = `resource:${randomUUID()}`;
    const key = randomUUID();
    const first = await cache.lookup(key, [scope]);
    expect(first).toEqual({ gens: [0] });
    await cache.keep(key, (first as { gens: number[] }).gens, { data: 1 });
    expect(await cache.lookup(key, [scope])).toEqual({ hit: { data: 1 } });
    await cache.invalidate([scope]);
    expect(await cache.lookup(key, [scope])).toEqual({ gens: [1] });
    // Another scope's change leaves it alone.
    await cache.keep(key, [1], { data: 2 });
    await cache.invalidate([`resource:${randomUUID()}`]);
    expect(await cache.lookup(key, [scope])).toEqual({ hit: { data: 2 } });
  });

  it('ignores an answer computed before a commit even when it is stored after the invalidation', async () => {
    const cache = make();
    const scope = `location:${randomUUID()}`;
    const key = randomUUID();
    const before = (await cache.lookup(key, [scope])) as { gens: number[] };
    // The query ran on the old rows; the commit and its invalidation land before the answer is kept.
    await cache.invalidate([scope]);
    await cache.keep(key, before.gens, { data: 'stale' });
    expect(await cache.lookup(key, [scope])).toEqual({ gens: [1] });
  });
});

describe('ResponseCache without Redis', () => {
  it('computes afresh (no lookup) while Redis is not connected', async () => {
    const down = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    const fallback = new RedisFallback(down, pino({ level: 'silent' }), () => {});
    const cache = new ResponseCache(new RedisResponseCacheStore(down, 60_000), fallback);
    expect(await cache.lookup('k', ['resource:x'])).toBeNull();
    down.disconnect();
  });

  it('forgets an entry after the TTL', async () => {
    let now = 0;
    const store = new MemoryResponseCacheStore(5_000, 100, () => now);
    await store.set('k', { gens: [0], result: 1 });
    now = 4_999;
    expect(await store.get('k')).not.toBeNull();
    now = 5_000;
    expect(await store.get('k')).toBeNull();
  });
});
