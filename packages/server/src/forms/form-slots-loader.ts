import DataLoader from 'dataloader';
import type { PrismaClient, Slot } from '../generated/prisma/client.js';

const perRequest = new WeakMap<object, Map<string, DataLoader<string, Slot[]>>>();

/**
 * `Form.slots` of every form in one request: one SQL statement however many forms (by start, then
 * end; past slots only with includePast, else those after `after` as the request's first call saw
 * it). Per request, keyed by its context object.
 */
export function formSlotsLoader(ctx: object, prisma: PrismaClient, after: Date | null): DataLoader<string, Slot[]> {
  let loaders = perRequest.get(ctx);
  if (!loaders) perRequest.set(ctx, (loaders = new Map()));
  const key = after ? 'upcoming' : 'all';
  let loader = loaders.get(key);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const slots = await prisma.slot.findMany({
        where: { formId: { in: [...ids] }, ...(after ? { startAt: { gt: after } } : {}) },
        orderBy: [{ startAt: 'asc' }, { endAt: 'asc' }, { id: 'asc' }],
      });
      const byForm = new Map<string, Slot[]>(ids.map((id) => [id, []]));
      for (const slot of slots) byForm.get(slot.formId!)?.push(slot);
      return ids.map((id) => byForm.get(id)!);
    });
    loaders.set(key, loader);
  }
  return loader;
}
