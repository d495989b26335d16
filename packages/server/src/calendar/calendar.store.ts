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

/** Withdraws the bookings' reminders that have not gone out. */
export async function cancelPendingReminders(tx: SqlQuery, bookingIds: string[]): Promise<void> {
  await tx.query(
    `UPDATE outbox_messages SET status = 'CANCELLED', updated_at = now() WHERE booking_id = ANY($1::uuid[]) AND kind = 'reminder' AND status = 'PENDING'`,
    [bookingIds],
  );
}

// ---- booking mail intents (rendered after commit, see booking-mail.ts) ---------------------------

export interface MailIntentRow<State> {
  id: string;
  booking_id: string;
  kind: 'invitation' | 'update' | 'cancellation';
  details_only: boolean;
  state: State;
  occurred_at: Date;
}

/**
 * The INSERT of mail intents given as a JSON array (parameter `json`) of {booking_id, kind,
 * details_only, state}, all occurred at `occurredAt`. A part for statements that write intents with other rows;
 * `onlyBookingsIn` (SQL giving ids) keeps only the intents of those bookings.
 */
export function insertMailIntentsSql(json: string, occurredAt: string, onlyBookingsIn?: string): string {
  return `INSERT INTO booking_mail_intents (booking_id, kind, details_only, state, occurred_at)
       SELECT x.booking_id, x.kind, x.details_only, x.state, ${occurredAt}::timestamptz
       FROM jsonb_to_recordset(${json}::jsonb) AS x(booking_id uuid, kind text, details_only boolean, state jsonb)
       ${onlyBookingsIn ? `WHERE x.booking_id IN (${onlyBookingsIn})` : ''}`;
}

/** Due intents with no earlier intent of their booking still pending (`i` is the intent). */
const CLAIMABLE = `SELECT i.id::text AS id, i.booking_id, i.kind, i.details_only, i.state, i.occurred_at FROM booking_mail_intents i
  WHERE i.due_at <= now()
    AND NOT EXISTS (SELECT 1 FROM booking_mail_intents e WHERE e.booking_id = i.booking_id AND e.id < i.id)`;

/** Claims up to `limit` due intents (or only the one given), oldest first, skipping those others hold. */
export function claimMailIntents<State>(tx: SqlQuery, limit: number, onlyId?: string): Promise<MailIntentRow<State>[]> {
  return tx.query<MailIntentRow<State>>(
    `${CLAIMABLE} AND ($2::bigint IS NULL OR i.id = $2::bigint) ORDER BY i.id LIMIT $1 FOR UPDATE OF i SKIP LOCKED`,
    [limit, onlyId ?? null],
  );
}

/** The ids of the next due intents, unlocked (to try them one by one). */
export async function nextMailIntentIds(q: SqlQuery, limit: number): Promise<string[]> {
  return (await q.query<{ id: string }>(`${CLAIMABLE} ORDER BY i.id LIMIT $1`, [limit])).map((r) => r.id);
}

export async function deleteMailIntents(tx: SqlQuery, ids: string[]): Promise<void> {
  await tx.query(`DELETE FROM booking_mail_intents WHERE id = ANY($1::bigint[])`, [ids]);
}

/** A failed render: counted, its error kept, due again after a doubling backoff. */
export async function postponeMailIntent(q: SqlQuery, id: string, error: string, baseMs: number, maxMs: number): Promise<void> {
  await q.query(
    `UPDATE booking_mail_intents SET attempts = attempts + 1, last_error = $2,
       due_at = now() + least($3::float8 * 2 ^ attempts, $4::float8) * interval '1 millisecond'
     WHERE id = $1::bigint`,
    [id, error, baseMs, maxMs],
  );
}

export async function countMailIntents(q: SqlQuery): Promise<number> {
  const [row] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM booking_mail_intents`);
  return row?.n ?? 0;
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
