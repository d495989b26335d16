import type { SqlQuery } from '../db/database.js';

/** The calendar domain's SQL: what invitations and notices read and change. */

export interface FormMailRow {
  title: string;
  time_zone: string;
  location_name: string | null;
  location_address: string | null;
  creator_email: string | null;
  creator_name: string | null;
}

/** A form with its location and creator, as a registration's mails name them. */
export async function selectFormForMail(tx: SqlQuery, formId: string): Promise<FormMailRow | undefined> {
  const [form] = await tx.query<FormMailRow>(
    `SELECT f.title, f.time_zone, l.name AS location_name, l.address AS location_address, u.email AS creator_email, u.name AS creator_name
     FROM forms f LEFT JOIN locations l ON l.id = f.location_id LEFT JOIN users u ON u.id = f.created_by
     WHERE f.id = $1::uuid`,
    [formId],
  );
  return form;
}

/** Withdraws the booking's reminders that have not gone out. */
export async function cancelPendingReminders(tx: SqlQuery, bookingId: string): Promise<void> {
  await tx.query(
    `UPDATE outbox_messages SET status = 'CANCELLED', updated_at = now() WHERE booking_id = $1::uuid AND kind = 'reminder' AND status = 'PENDING'`,
    [bookingId],
  );
}

/**
 * Everything the mails of these bookings show, as this transaction sees them: the booking, its
 * resource, location (or its form's), form title, zone, and whether any mail about it was queued.
 * The row type is booking-mail.ts's MailRow.
 */
export function selectBookingsForMail<Row>(q: SqlQuery, ids: string[]): Promise<Row[]> {
  return q.query<Row>(
    `SELECT b.id, b.status::text AS status, b.start_at, b.end_at, b.ics_uid, b.ics_sequence, b.customer_name, b.customer_email, b.customer_time_zone,
       b.title, b.notes, b.party_size,
       r.kind::text AS resource_kind, r.name AS resource_name, r.email AS resource_email, f.title AS form_title,
       coalesce(l.name, fl.name) AS location_name, coalesce(l.address, fl.address) AS location_address,
       coalesce(f.time_zone, l.time_zone, fl.time_zone, s.time_zone, 'UTC') AS time_zone,
       (EXISTS (SELECT 1 FROM outbox_messages o WHERE o.booking_id = b.id)
        OR EXISTS (SELECT 1 FROM registration_slots rs JOIN outbox_messages o ON o.registration_id = rs.registration_id
                   WHERE rs.booking_id = b.id)) AS mailed_before
     FROM bookings b
     LEFT JOIN resources r ON r.id = b.resource_id
     LEFT JOIN locations l ON l.id = b.location_id
     LEFT JOIN slots s ON s.id = b.slot_id
     LEFT JOIN forms f ON f.id = s.form_id
     LEFT JOIN locations fl ON fl.id = f.location_id
     WHERE b.id = ANY($1::uuid[])`,
    [ids],
  );
}
