import type { SqlQuery } from '../db/database.js';

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
export function auditView(b: { status: string; slotId: string | null; startAt: Date; endAt: Date; icsSequence: number; holdExpiresAt?: Date | null; partySize?: number }) {
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

/** Written inside the transaction that made the change, so audit and data never disagree. */
export async function writeBookingAudit(tx: SqlQuery, actor: AuditActor, entries: BookingAuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await tx.query(
    `INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, old_values, new_values)
     SELECT 'Booking', x.entity_id, x.action, $1::uuid, $2::text, $3::text, x.old_values, x.new_values
     FROM jsonb_to_recordset($4::jsonb) AS x(entity_id uuid, action text, old_values jsonb, new_values jsonb)`,
    [
      actor.actorId ?? null,
      actor.actorLabel,
      actor.requestId ?? null,
      JSON.stringify(entries.map((e) => ({ entity_id: e.bookingId, action: e.action, old_values: e.oldValues, new_values: e.newValues }))),
    ],
  );
}
