import type { Prisma, Slot } from '../generated/prisma/client.js';

/** The sessions domain's SQL: the overlap check and the session slot itself. */

type Tx = Prisma.TransactionClient;

/** The start of one of the person's live slots overlapping [startAt, endAt), if any. */
export async function overlappingSlotStart(tx: Tx, resourceId: string, startAt: Date, endAt: Date): Promise<Date | null> {
  const [overlap] = await tx.$queryRaw<{ start_at: Date }[]>`
    SELECT start_at FROM slots
    WHERE resource_id = ${resourceId}::uuid AND status <> 'CANCELLED'
      AND tstzrange(start_at, end_at) && tstzrange(${startAt}::timestamptz, ${endAt}::timestamptz)
    LIMIT 1`;
  return overlap?.start_at ?? null;
}

export function insertSessionSlot(
  tx: Tx,
  session: { locationId: string; resourceId: string; timeZone: string; startAt: Date; endAt: Date; sessionMinutes: number },
): Promise<Slot> {
  return tx.slot.create({ data: { ...session, capacity: 1 } });
}
