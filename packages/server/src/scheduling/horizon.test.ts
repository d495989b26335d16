import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { HORIZON_PASS_INTERVAL_MS } from './generation.service.js';

/** Issue #18 item 6: the slot-horizon job's work per run does not grow with the number of scopes. */
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ config: { SLOT_HORIZON_DAYS: '3' } });
  for (let i = 0; i < 5; i++) {
    const location = await t.app.services.locations.create({ name: `Horizon ${i}`, timeZone: 'Europe/Vienna' });
    const resource = await t.app.services.resources.create({ locationId: location.id, kind: 'PERSON', name: `Person ${i}` });
    await t.app.services.rules.create({
      resourceId: resource.id,
      kind: 'WEEKLY',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '09:00',
      endTime: '11:00',
      slotDurationMinutes: 60,
    });
  }
  await t.app.db.sql.query(`DELETE FROM slots`);
});
afterAll(() => t?.close());

const slotCount = async () => (await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM slots`))[0]!.n;

describe('the rolling horizon in bounded steps', () => {
  it('a run reconciles at most maxScopes scopes; `next` continues the pass, which ends with next = null', async () => {
    const first = await t.app.services.generation.fillHorizon({ maxScopes: 2 });
    expect(first.next).not.toBeNull();
    const afterFirst = await slotCount();
    expect(afterFirst).toBeGreaterThan(0);
    const second = await t.app.services.generation.fillHorizon({ after: first.next, maxScopes: 2 });
    expect(second.next).not.toBeNull();
    const third = await t.app.services.generation.fillHorizon({ after: second.next, maxScopes: 2 });
    expect(third.next).toBeNull();
    // Five scopes, each with the same rule: the first run made two fifths of the slots.
    const total = await slotCount();
    expect(afterFirst * 5).toBe(total * 2);
    expect((await t.app.services.generation.fillHorizon()).created).toBe(0);
  });

  it('horizonStep runs a pass to its end, then waits an hour before the next', async () => {
    const start = 1_000_000_000_000;
    const step = await t.app.services.generation.horizonStep(start);
    expect(step).toMatchObject({ next: null, created: 0 });
    expect(await t.app.services.generation.horizonStep(start + 60_000)).toBeNull();
    expect(await t.app.services.generation.horizonStep(start + HORIZON_PASS_INTERVAL_MS)).toMatchObject({ next: null });
  });
});
