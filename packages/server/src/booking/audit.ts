import type { Prisma } from '../generated/prisma/client.js';

export type BookingAction = 'HELD' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED' | 'RESCHEDULED';

export interface BookingAuditEntry {
  bookingId: string;
  action: BookingAction;
  /** Booking fields before and after, never customer contact data. */
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown>;
}

export interface AuditActor {
  actorId?: string | null;
  actorLabel: string;
  requestId?: string | null;
}

/** The audited view of a booking: what changed, without PII. */
export function auditView(b: { status: string; slotId: string | null; startAt: Date; endAt: Date; icsSequence: number; holdExpiresAt?: Date | null }) {
  return {
    status: b.status,
    slotId: b.slotId,
    startAt: b.startAt.toISOString(),
    endAt: b.endAt.toISOString(),
    icsSequence: b.icsSequence,
    ...(b.holdExpiresAt ? { holdExpiresAt: b.holdExpiresAt.toISOString() } : {}),
  };
}

/** Written inside the transaction that made the change, so audit and data never disagree. */
export async function writeBookingAudit(tx: Prisma.TransactionClient, actor: AuditActor, entries: BookingAuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await tx.auditEvent.createMany({
    data: entries.map((e) => ({
      entityType: 'Booking',
      entityId: e.bookingId,
      action: e.action,
      actorId: actor.actorId ?? null,
      actorLabel: actor.actorLabel,
      requestId: actor.requestId ?? null,
      oldValues: (e.oldValues ?? undefined) as Prisma.InputJsonValue | undefined,
      newValues: e.newValues as Prisma.InputJsonValue,
    })),
  });
}
