import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { SlotChange, SlotChangeReason, SlotEvents } from '../events/slot-events.js';

type TransactionOptions = Parameters<PrismaClient['$transaction']>[1];

/**
 * Runs `work` in one transaction and publishes the slot changes it collected only once that
 * transaction has committed: a rollback (a thrown error) publishes nothing.
 *
 *   await runAndPublish(prisma, slotEvents, async (tx, changes) => {
 *     await tx.slot.update(...);
 *     changes.push(...(await slotChangesIn(tx, [slotId], 'HELD')));
 *     return booking;
 *   });
 */
export async function runAndPublish<T>(
  prisma: PrismaClient,
  events: SlotEvents,
  work: (tx: Prisma.TransactionClient, changes: SlotChange[]) => Promise<T>,
  options?: TransactionOptions,
): Promise<T> {
  const changes: SlotChange[] = [];
  const result = await prisma.$transaction((tx) => work(tx, changes), options);
  await events.publish(changes);
  return result;
}

/** The changes to publish for slots this transaction has just written: their versions as it sees them. */
export async function slotChangesIn(tx: Prisma.TransactionClient, slotIds: string[], reason: SlotChangeReason): Promise<SlotChange[]> {
  if (!slotIds.length) return [];
  const rows = await tx.slot.findMany({
    where: { id: { in: slotIds } },
    select: { id: true, version: true, locationId: true, resourceId: true, formId: true },
  });
  return rows.map((row) => slotChange(row, reason));
}

export function slotChange(
  slot: { id: string; version: number; locationId: string | null; resourceId: string | null; formId?: string | null },
  reason: SlotChangeReason,
): SlotChange {
  return { slotId: slot.id, version: slot.version, reason, locationId: slot.locationId, resourceId: slot.resourceId, formId: slot.formId ?? null };
}
