import type { Slotwise } from '../app.js';

/** Demo data for a first embedded start, so GraphiQL has something to show. Returns false when data exists. */
export async function seedDemoIfEmpty(app: Slotwise): Promise<boolean> {
  const { prisma } = app.db;
  if ((await prisma.location.count()) > 0) return false;
  const location = await app.services.locations.create({ name: 'Riverside Clinic', timeZone: 'America/New_York', address: '1 River St' });
  for (const resource of [
    { kind: 'PERSON' as const, name: 'Dr. Ada Moreno', email: 'ada@example.com' },
    { kind: 'PERSON' as const, name: 'Coach Sam Okafor', email: 'sam@example.com' },
    { kind: 'ROOM' as const, name: 'Studio Room', exclusive: true },
  ]) {
    await app.services.resources.create({ locationId: location.id, ...resource });
  }
  const { token } = await app.services.auth.ensureAdmin('admin@example.com', 'Demo Admin');
  app.log.info(`Demo admin API token (shown once; send as "Authorization: Bearer <token>"): ${token}`);
  return true;
}
