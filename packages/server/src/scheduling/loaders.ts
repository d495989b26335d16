import DataLoader from 'dataloader';
import type { PrismaClient, Slot } from '../generated/prisma/client.js';

/**
 * Batched slot reads: every `Resource.slots(from, to)` (or `Location.slots`) of one request
 * with the same window is answered by one SQL statement, however many parents there are.
 * Loaders live per request (keyed by its context object) so nothing is cached across requests.
 */
type Owner = 'resourceId' | 'locationId';

const perRequest = new WeakMap<object, Map<string, DataLoader<string, Slot[]>>>();

export function slotsLoader(ctx: object, prisma: PrismaClient, owner: Owner, from: Date, to: Date): DataLoader<string, Slot[]> {
  let loaders = perRequest.get(ctx);
  if (!loaders) perRequest.set(ctx, (loaders = new Map()));
  const key = `${owner}|${from.toISOString()}|${to.toISOString()}`;
  let loader = loaders.get(key);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const slots = await prisma.slot.findMany({
        where: { [owner]: { in: [...ids] }, startAt: { gte: from, lt: to }, status: { not: 'CANCELLED' } },
        orderBy: [{ startAt: 'asc' }, { id: 'asc' }],
      });
      const byOwner = new Map<string, Slot[]>(ids.map((id) => [id, []]));
      for (const slot of slots) byOwner.get(slot[owner]!)?.push(slot);
      return ids.map((id) => byOwner.get(id)!);
    });
    loaders.set(key, loader);
  }
  return loader;
}
