import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { EXPOSED } from '../../test/kit/documents.js';
import { fixtures, gid, type Fixtures } from '../../test/kit/fixtures.js';
import { EXPOSURE_TTL_MS, exposureKey } from './exposure-cache.js';

// The sticky exposure cache on the test Redis: what several server instances would share.

let t: TestApp;
let location: { id: string };
let f: Fixtures;
let resourceId: string;
const DATE = '2026-12-10';

beforeAll(async () => {
  t = await createTestApp({ redis: true });
  // A fixed clock, so the dates below stay in the future.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-20T12:00:00Z'));
  f = fixtures(t.app.db.sql);
  location = { id: await f.location('Europe/London') };
  resourceId = await f.resource(location.id);
  await f.slots(
    { locationId: location.id, resourceId, timeZone: 'Europe/London' },
    ['09:00', '10:00', '11:00', '13:00', '14:00', '15:00', '18:00', '19:00'].map((time) => ({ start: `${DATE}T${time}:00Z` })),
  );
});
afterAll(async () => {
  vi.useRealTimers();
  await t.close();
});

const expose = async (sessionId: string) =>
  expectNoErrors(await t.execute(EXPOSED, { locationId: gid('Location', location.id), date: DATE, sessionId })).exposedSlots;

describe('exposedSlots with Redis', () => {
  it('keeps the exposure in Redis for 7 minutes under expose:{user}:{date}:{scope}', async () => {
    const session = `redis-${Date.now()}`;
    const first = await expose(session);
    const key = exposureKey(`session:${session}`, DATE, `location:${location.id}`);
    const stored = JSON.parse((await t.app.redis!.get(key))!);
    expect({ ...stored, slotIds: stored.slotIds.sort() }).toEqual({
      slotIds: first.slots.map((s: { id: string }) => decodeGlobalID(s.id).id).sort(),
      k: first.k,
      variant: 'control',
    });
    const ttl = await t.app.redis!.pttl(key);
    expect(ttl).toBeGreaterThan(EXPOSURE_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(EXPOSURE_TTL_MS);
  });

  it('returns the same slots after other slots appear, and chooses afresh once the entry is gone', async () => {
    const session = `redis-sticky-${Date.now()}`;
    const first = await expose(session);
    // Morning slots that would often win a fresh draw.
    await f.slots(
      { locationId: location.id, resourceId: await f.resource(location.id), timeZone: 'Europe/London' },
      ['06:00', '06:30', '07:00', '07:30', '08:00', '08:30'].map((time) => ({ start: `${DATE}T${time}:00Z` })),
    );
    const again = await expose(session);
    expect(again.slots).toEqual(first.slots);
    expect(again.total).toBe(first.total + 6);

    // Seven minutes later Redis has dropped the key (simulated by deleting it): a fresh choice over all 14.
    await t.app.redis!.del(exposureKey(`session:${session}`, DATE, `location:${location.id}`));
    const fresh = await expose(session);
    expect(fresh.total).toBe(first.total + 6);
    expect(fresh.slots).toHaveLength(fresh.k);
  });
});
