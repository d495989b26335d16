import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';

/** Issue #18 item 5: the compact availability form, grouped per date and resource, without and under a booking policy. */
let t: TestApp;
let f: ReturnType<typeof fixtures>;
const DAY = 86_400_000;
const base = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY);
const at = (day: number, hour: number, minute = 0) => new Date(base.getTime() + day * DAY + (hour * 60 + minute) * 60_000);

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
});
afterAll(() => t?.close());

async function location() {
  const locationId = await f.location('UTC');
  const [a, b] = [await f.resource(locationId), await f.resource(locationId)];
  await f.slot(locationId, a, { startAt: at(0, 9), minutes: 30, capacity: 3 });
  await f.slot(locationId, a, { startAt: at(0, 10, 30), minutes: 60 });
  await f.slot(locationId, b, { startAt: at(0, 9) });
  await f.slot(locationId, a, { startAt: at(1, 14) });
  const full = await f.slot(locationId, b, { startAt: at(1, 15) });
  await t.app.db.sql.query(`UPDATE slots SET booked = 1 WHERE id = $1`, [full]);
  await f.slot(locationId, b, { startAt: at(1, 16), status: 'BLOCKED' });
  return { locationId, a, b };
}

const answer = (locationId: string) => t.app.services.availability.availabilityByDay({ locationId }, at(0, 0), at(3, 0));

describe('availabilityByDay', () => {
  it('groups the bookable slots per date and resource, minutes after local midnight; full and blocked slots left out', async () => {
    const { locationId, a, b } = await location();
    const result = await answer(locationId);
    const date = (day: number) => at(day, 0).toISOString().slice(0, 10);
    const shape = result.days.map((d) => ({
      date: d.date,
      resourceId: d.resourceId,
      starts: d.starts,
      durations: d.durations,
      remaining: d.remaining,
    }));
    const day0 = [
      { date: date(0), resourceId: a, starts: [540, 630], durations: [30, 60], remaining: [3, 1] },
      { date: date(0), resourceId: b, starts: [540], durations: [30], remaining: [1] },
    ].sort((x, y) => (x.resourceId < y.resourceId ? -1 : 1));
    expect(shape).toEqual([...day0, { date: date(1), resourceId: a, starts: [840], durations: [30], remaining: [1] }]);
    expect(result.slotCount).toBe(4);
    expect(result.days.every((d) => d.slotIds.length === d.starts.length)).toBe(true);
  });

  it('under a booking policy the slots are judged one by one, with the same shape', async () => {
    const { locationId } = await location();
    const plain = await answer(locationId);
    // A buffer that refuses nothing here: the policy path runs and must answer the same.
    await t.app.db.sql.query(`UPDATE locations SET buffer_before_minutes = 0 WHERE id = $1`, [locationId]);
    expect(await answer(locationId)).toEqual(plain);
    // A horizon of one day: the second day's slot goes.
    await t.app.db.sql.query(`UPDATE locations SET horizon_days = 1 WHERE id = $1`, [locationId]);
    const within = await answer(locationId);
    expect(within.slotCount).toBeLessThan(plain.slotCount);
  });
});
