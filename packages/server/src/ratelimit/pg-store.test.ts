import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { PgRateLimitStore } from './store.js';

/** The PostgreSQL rate-limit store groups concurrent hits into one statement and still counts every hit exactly. */
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('PgRateLimitStore', () => {
  it('concurrent hits from two instances add up exactly; each caller sees the count its own hit made', async () => {
    const a = new PgRateLimitStore(t.app.db.sql);
    const b = new PgRateLimitStore(t.app.db.sql);
    const statements = t.checkouts();
    const hits = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit('read:ip:203.0.113.7', 1 + (i % 3))));
    // Grouped: far fewer statements than hits.
    expect(t.checkouts() - statements).toBeLessThan(50);
    const total = Array.from({ length: 100 }, (_, i) => 1 + (i % 3)).reduce((sum, c) => sum + c, 0);
    const counts = hits.map((h) => h.count).sort((x, y) => x - y);
    expect(counts.at(-1)).toBe(total);
    expect(new Set(counts).size).toBe(100);
    expect(hits.every((h) => h.resetInMs > 0 && h.resetInMs <= 60_000)).toBe(true);
    const [row] = await t.app.db.sql.query<{ count: number }>(`SELECT count FROM rate_limit_windows WHERE key = 'read:ip:203.0.113.7'`);
    expect(row!.count).toBe(total);
    // Other keys in the same batch keep their own counts.
    const [x, y] = await Promise.all([a.hit('read:user:x', 5), a.hit('read:user:y', 7)]);
    expect([x!.count, y!.count]).toEqual([5, 7]);
  });

  it('an ended window starts again at the hit', async () => {
    const store = new PgRateLimitStore(t.app.db.sql, 1_000);
    await store.hit('read:ip:198.51.100.9', 3);
    await t.app.db.sql.query(`UPDATE rate_limit_windows SET reset_at = now() - interval '1 second' WHERE key = 'read:ip:198.51.100.9'`);
    expect((await store.hit('read:ip:198.51.100.9', 2)).count).toBe(2);
  });
});
