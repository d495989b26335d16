import { randomBytes } from 'node:crypto';
import { Prisma, type Booking } from '../generated/prisma/client.js';
import { auditView, type AuditActor } from './audit.js';

/** A UUIDv7 made here, so the booking and its audit row can be written in one statement. */
export function newBookingId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type NewBooking = Omit<Booking, 'notes' | 'icsSequence' | 'cancelledAt' | 'updatedAt'>;

/** The full row as the database will hold it (defaults filled in), for the caller to return. */
export function asBooking(b: NewBooking): Booking {
  return { ...b, notes: null, icsSequence: 0, cancelledAt: null, updatedAt: b.createdAt };
}

/**
 * Writes new bookings, their audit rows and (optionally) the slot counts they take in ONE
 * statement: fewer round trips while the slot rows are locked. Returns the slots' new versions.
 * An overlap on an exclusive resource surfaces as the exclusion constraint's 23P01 as usual.
 */
export async function insertBookings(
  tx: Prisma.TransactionClient,
  bookings: Booking[],
  actor: AuditActor,
  slotCounts?: { ids: string[]; column: 'held' | 'booked' },
): Promise<Map<string, number>> {
  const rows = bookings.map((b) => ({
    id: b.id,
    kind: b.kind,
    slot_id: b.slotId,
    resource_id: b.resourceId,
    location_id: b.locationId,
    exclusive: b.exclusive,
    start_at: b.startAt,
    end_at: b.endAt,
    status: b.status,
    hold_expires_at: b.holdExpiresAt,
    user_id: b.userId,
    customer_name: b.customerName,
    customer_email: b.customerEmail,
    customer_email_hash: b.customerEmailHash,
    customer_phone: b.customerPhone,
    customer_phone_hash: b.customerPhoneHash,
    manage_token_hash: b.manageTokenHash,
    ics_uid: b.icsUid,
    confirmed_at: b.confirmedAt,
    created_at: b.createdAt,
  }));
  const audit = bookings.map((b) => ({
    entity_id: b.id,
    action: b.status,
    actor_id: actor.actorId ?? null,
    actor_label: actor.actorLabel,
    request_id: actor.requestId ?? null,
    new_values: auditView(b),
  }));
  const counts = slotCounts
    ? Prisma.sql`UPDATE slots SET ${Prisma.raw(slotCounts.column)} = ${Prisma.raw(slotCounts.column)} + 1
        WHERE id = ANY(${slotCounts.ids}::uuid[]) RETURNING id, version`
    : Prisma.sql`SELECT NULL::uuid AS id, NULL::int AS version WHERE false`;
  const versions = await tx.$queryRaw<{ id: string; version: number }[]>`
    WITH counts AS (${counts}),
    booking AS (
      INSERT INTO bookings (id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, manage_token_hash,
        ics_uid, confirmed_at, created_at, updated_at)
      SELECT id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, manage_token_hash,
        ics_uid, confirmed_at, created_at, created_at
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id uuid, kind booking_kind, slot_id uuid, resource_id uuid,
        location_id uuid, exclusive boolean, start_at timestamptz, end_at timestamptz, status booking_status,
        hold_expires_at timestamptz, user_id uuid, customer_name text, customer_email text, customer_email_hash text,
        customer_phone text, customer_phone_hash text, manage_token_hash text, ics_uid text, confirmed_at timestamptz,
        created_at timestamptz)),
    audit AS (
      INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, new_values)
      SELECT 'Booking', entity_id, action, actor_id, actor_label, request_id, new_values
      FROM jsonb_to_recordset(${JSON.stringify(audit)}::jsonb) AS x(entity_id uuid, action text, actor_id uuid,
        actor_label text, request_id text, new_values jsonb))
    SELECT id, version FROM counts`;
  return new Map(versions.map((v) => [v.id, v.version]));
}
