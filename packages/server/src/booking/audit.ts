export type BookingAction = 'HELD' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED' | 'RESCHEDULED' | 'UPDATED';

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
export function auditView(b: {
  status: string;
  slotId: string | null;
  startAt: Date;
  endAt: Date;
  icsSequence: number;
  holdExpiresAt?: Date | null;
  partySize?: number;
}) {
  return {
    status: b.status,
    ...(b.partySize !== undefined ? { partySize: b.partySize } : {}),
    slotId: b.slotId,
    startAt: b.startAt.toISOString(),
    endAt: b.endAt.toISOString(),
    icsSequence: b.icsSequence,
    ...(b.holdExpiresAt ? { holdExpiresAt: b.holdExpiresAt.toISOString() } : {}),
  };
}
