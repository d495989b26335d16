import type { Prisma, Resource } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';

/** The resources domain's Prisma writes. */

type Tx = Prisma.TransactionClient;

export function insertResource(tx: Tx, data: Prisma.ResourceUncheckedCreateInput): Promise<Resource> {
  return tx.resource.create({ data });
}

export function updateResourceRow(tx: Tx, id: string, data: Prisma.ResourceUncheckedUpdateInput): Promise<Resource> {
  return tx.resource.update({ where: { id }, data });
}

/** An archived resource's free future slots, CANCELLED (slots with bookings or holds stay as they are). */
export async function withdrawFreeSlots(tx: Tx, resourceId: string, now: Date): Promise<SlotChange[]> {
  const rows = await tx.$queryRawUnsafe<{ id: string; version: number; location_id: string | null; form_id: string | null }[]>(
    `UPDATE slots SET status = 'CANCELLED'
      WHERE resource_id = $1::uuid AND start_at > $2 AND booked = 0 AND held = 0 AND status NOT IN ('CANCELLED', 'BLOCKED')
      RETURNING id, version, location_id, form_id`,
    resourceId,
    now,
  );
  return rows.map((r) => ({ slotId: r.id, version: r.version, reason: 'CANCELLED', locationId: r.location_id, resourceId, formId: r.form_id }));
}
