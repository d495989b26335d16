import { addDays, todayIn } from '../shared/time.js';
import type { Slotwise } from '../app.js';

/** Demo data for a first embedded start, so GraphiQL has something to show. Returns false when data exists. */
export async function seedDemoIfEmpty(app: Slotwise): Promise<boolean> {
  const { prisma } = app.db;
  if ((await prisma.location.count()) > 0) return false;
  const location = await app.services.locations.create({ name: 'Riverside Clinic', timeZone: 'America/New_York', address: '1 River St' });
  const weekdays = [1, 2, 3, 4, 5];
  for (const { rule, ...resource } of [
    {
      kind: 'PERSON' as const,
      name: 'Dr. Ada Moreno',
      email: 'ada@example.com',
      rule: { startTime: '09:00', endTime: '17:00', slotDurationMinutes: 30 },
    },
    {
      kind: 'PERSON' as const,
      name: 'Coach Sam Okafor',
      email: 'sam@example.com',
      rule: { startTime: '09:00', endTime: '17:00', slotDurationMinutes: 30 },
    },
    { kind: 'ROOM' as const, name: 'Studio Room', exclusive: true, rule: { startTime: '08:00', endTime: '20:00', slotDurationMinutes: 60 } },
  ]) {
    const created = await app.services.resources.create({ locationId: location.id, ...resource });
    await app.services.rules.create({ resourceId: created.id, kind: 'WEEKLY', daysOfWeek: weekdays, ...rule });
  }
  // Four weeks of slots from today, in the clinic's zone.
  const today = todayIn(location.timeZone, new Date());
  await app.services.generation.generate({ locationId: location.id, from: today, to: addDays(today, 27) });
  const { token } = await app.services.auth.ensureAdmin('admin@example.com', 'Demo Admin');
  app.log.info(`Demo admin API token (shown once; send as "Authorization: Bearer <token>"): ${token}`);
  return true;
}
