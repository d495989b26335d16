import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlotwise, type Slotwise } from '../app.js';
import { loadConfig } from '../config.js';
import { seedDemoIfEmpty } from './seed.js';

// The demo runs on the embedded database (PGlite), as a first `pnpm start` does.
let app: Slotwise;
beforeAll(async () => {
  app = await createSlotwise({ config: loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }) });
});
afterAll(() => app.close());

describe('demo data', () => {
  it('has weekly rules for the two people and the room, and four weeks of slots', async () => {
    expect(await seedDemoIfEmpty(app)).toBe(true);
    const resources = await app.db.prisma.resource.findMany({
      orderBy: { name: 'asc' },
      include: { rules: true, _count: { select: { slots: true } } },
    });
    const summary = resources.map((r) => ({
      name: r.name,
      rules: r.rules.map((x) => [x.kind, x.daysOfWeek, x.startMinute / 60, x.endMinute / 60, x.slotDurationMinutes]),
    }));
    expect(summary).toEqual([
      { name: 'Coach Sam Okafor', rules: [['WEEKLY', [1, 2, 3, 4, 5], 9, 17, 30]] },
      { name: 'Dr. Ada Moreno', rules: [['WEEKLY', [1, 2, 3, 4, 5], 9, 17, 30]] },
      { name: 'Studio Room', rules: [['WEEKLY', [1, 2, 3, 4, 5], 8, 20, 60]] },
    ]);
    // 28 days hold 20 weekdays; today's slots that already began are skipped.
    const [sam, ada, room] = resources.map((r) => r._count.slots);
    for (const n of [sam, ada]) expect(n).toBeGreaterThanOrEqual(16 * 19);
    for (const n of [sam, ada]) expect(n).toBeLessThanOrEqual(16 * 20);
    expect(room).toBeGreaterThanOrEqual(12 * 19);
    expect(room).toBeLessThanOrEqual(12 * 20);
    const roomSlot = await app.db.prisma.slot.findFirstOrThrow({ where: { resourceId: resources[2]!.id } });
    expect(roomSlot).toMatchObject({ capacity: 1, timeZone: 'America/New_York' });
    expect(await seedDemoIfEmpty(app)).toBe(false);

    // The horizon job on PGlite: the seeded weeks are already there.
    const horizon = await app.services.generation.fillHorizon();
    expect(horizon).toMatchObject({ removed: 0, kept: [], skipped: 0 });
    // (a slot may start, and drop out of the future, between the two runs)
    expect(horizon.unchanged).toBeLessThanOrEqual(sam! + ada! + room!);
    expect(horizon.unchanged).toBeGreaterThanOrEqual(sam! + ada! + room! - 3);
  });
});
