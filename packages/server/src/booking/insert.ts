import { randomBytes } from 'node:crypto';
import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
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

type Details = 'title' | 'notes' | 'internalNotes' | 'partySize';
export type NewBooking = Omit<Booking, Details | 'icsSequence' | 'cancelledAt' | 'updatedAt' | 'legacyDuplicate'> & Partial<Pick<Booking, Details>>;

/** The full row as the database will hold it (defaults filled in), for the caller to return. */
export function asBooking(b: NewBooking): Booking {
  return { title: null, notes: null, internalNotes: null, partySize: 1, ...b, icsSequence: 0, cancelledAt: null, updatedAt: b.createdAt, legacyDuplicate: false };
}

/** Found inside the transaction: a new booking would overlap a live one on its exclusive resource. */
export class OverlapError extends Error {
  constructor() {
    super('overlaps a live booking on an exclusive resource');
  }
}

// Advisory-lock namespace of "bookings on this exclusive resource" (the two-int form keeps it apart
// from single-bigint advisory locks used elsewhere).
const EXCLUSIVE_LOCK_CLASS = 0x5357_0001;

/**
 * Serializes writers of one exclusive resource. Without it, two transactions inserting overlapping
 * ranges at once each wait on the other's uncommitted row in the exclusion check and deadlock
 * (PostgreSQL needs deadlock_timeout, 1 s, to break that). Taken after any slot locks, in id order.
 */
export async function lockExclusiveResources(tx: SqlQuery, resourceIds: string[]): Promise<void> {
  const ids = [...new Set(resourceIds)].sort();
  if (!ids.length) return;
  await tx.query(`SELECT pg_advisory_xact_lock($1::int, hashtext(id))::text FROM unnest($2::text[]) AS id`, [EXCLUSIVE_LOCK_CLASS, ids]);
}

/**
 * Writes new bookings, their audit rows and (optionally) the slot counts they take in ONE
 * statement: fewer round trips while the slot rows are locked. Each slot booking takes its
 * party_size places of `column`; the slots CHECK (booked + held <= capacity) refuses an overbooking
 * whatever got past the caller's check. Returns the slots' new versions.
 * A booking on an exclusive resource that overlaps a committed live booking is not inserted (a
 * NOT EXISTS guard, no error and no wait) and OverlapError is thrown; the exclusion constraint
 * stays the guarantee for anything the guard cannot see (its 23P01 propagates as usual).
 */
export async function insertBookings(
  tx: SqlQuery,
  bookings: Booking[],
  actor: AuditActor,
  slotCounts?: { column: 'held' | 'booked' },
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
    customer_time_zone: b.customerTimeZone,
    title: b.title,
    notes: b.notes,
    internal_notes: b.internalNotes,
    party_size: b.partySize,
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
  // No slotCounts: the counts step matches no slot (an empty list).
  const column = slotCounts?.column === 'booked' ? 'booked' : 'held';
  const places = slotCounts ? bookings.filter((b) => b.slotId).map((b) => ({ id: b.slotId, n: b.partySize })) : [];
  const [row] = await tx.query<{ inserted: number; slot_ids: string[] | null; versions: number[] | null }>(
    `WITH counts AS (
      UPDATE slots s SET ${column} = s.${column} + d.n
      FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, n int)
      WHERE s.id = d.id RETURNING s.id, s.version),
    booking AS (
      INSERT INTO bookings (id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, customer_time_zone,
        title, notes, internal_notes, party_size, manage_token_hash, ics_uid, confirmed_at, created_at, updated_at)
      SELECT id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, customer_time_zone,
        title, notes, internal_notes, party_size, manage_token_hash, ics_uid, confirmed_at, created_at, created_at
      FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, kind booking_kind, slot_id uuid, resource_id uuid,
        location_id uuid, exclusive boolean, start_at timestamptz, end_at timestamptz, status booking_status,
        hold_expires_at timestamptz, user_id uuid, customer_name text, customer_email text, customer_email_hash text,
        customer_phone text, customer_phone_hash text, customer_time_zone text, title text, notes text, internal_notes text,
        party_size int, manage_token_hash text, ics_uid text, confirmed_at timestamptz,
        created_at timestamptz)
      WHERE NOT x.exclusive OR NOT EXISTS (
        SELECT 1 FROM bookings o
        WHERE o.resource_id = x.resource_id AND o.exclusive AND o.status IN ('HELD', 'CONFIRMED')
          AND tstzrange(o.start_at, o.end_at) && tstzrange(x.start_at, x.end_at))
      RETURNING id),
    audit AS (
      INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, new_values)
      SELECT 'Booking', x.entity_id, x.action, x.actor_id, x.actor_label, x.request_id, x.new_values
      FROM jsonb_to_recordset($3::jsonb) AS x(entity_id uuid, action text, actor_id uuid,
        actor_label text, request_id text, new_values jsonb)
      JOIN booking ON booking.id = x.entity_id)
    SELECT (SELECT count(*)::int FROM booking) AS inserted,
      (SELECT array_agg(id::text ORDER BY id) FROM counts) AS slot_ids,
      (SELECT array_agg(version ORDER BY id) FROM counts) AS versions`,
    [JSON.stringify(places), JSON.stringify(rows), JSON.stringify(audit)],
  );
  if (row!.inserted < bookings.length) throw new OverlapError();
  return new Map((row!.slot_ids ?? []).map((id, i) => [id, row!.versions![i]!]));
}
