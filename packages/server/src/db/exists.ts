import type { PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError } from '../shared/errors.js';

const FIND = {
  Location: (prisma: PrismaClient, id: string) => prisma.location.findUnique({ where: { id }, select: { id: true } }),
  Resource: (prisma: PrismaClient, id: string) => prisma.resource.findUnique({ where: { id }, select: { id: true } }),
  Slot: (prisma: PrismaClient, id: string) => prisma.slot.findUnique({ where: { id }, select: { id: true } }),
  WebhookEndpoint: (prisma: PrismaClient, id: string) => prisma.webhookEndpoint.findUnique({ where: { id }, select: { id: true } }),
};

/**
 * NotFoundError when a list's filter names a row that does not exist: an unknown id is an
 * error, not an empty list. Nothing to check when the filter is left out.
 */
export async function mustExist(prisma: PrismaClient, entity: keyof typeof FIND, id: string | null | undefined): Promise<void> {
  if (id && !(await FIND[entity](prisma, id))) throw new NotFoundError(entity, id);
}
