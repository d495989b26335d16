import type { SqlQuery } from '../db/database.js';
import type { MagicLinkRole } from '../links/magic-links.js';
import { pii } from '../shared/pii.js';
import type { InboundMail } from './imip-parse.js';

export const IMIP_OUTCOMES = [
  'accepted',
  'tentative',
  'declined-guest',
  'declined-host',
  'counter-proposal',
  'duplicate',
  'stale',
  'unknown-uid',
  'not-calendar',
] as const;
export type ImipOutcome = (typeof IMIP_OUTCOMES)[number];

/**
 * Stores an inbound mail; null when its Message-ID is already stored. A calendar reply whose
 * (uid, method, sequence, attendee, partstat) is already stored is kept with outcome `duplicate`.
 */
export async function insertImipMessage(
  sql: SqlQuery,
  raw: Buffer,
  mail: InboundMail,
  source: 'http' | 'imap',
  outcome: ImipOutcome | 'unparseable',
): Promise<{ id: string; duplicateKey: boolean } | null> {
  const c = mail.calendar;
  const p = pii();
  const values = [
    mail.messageId,
    source,
    c?.method ?? null,
    c?.uid ?? null,
    c ? c.sequence : null,
    c?.attendee ? p.encrypt(c.attendee) : null,
    c?.attendee ? p.emailHash(c.attendee) : null,
    c?.partstat ?? null,
    p.encrypt(raw.toString('base64')),
  ];
  const insert = (o: string) =>
    sql.query<{ id: string }>(
      `INSERT INTO imip_messages (message_id, source, method, uid, sequence, attendee, attendee_hash, partstat, raw_message, outcome)
       VALUES ($1, $2, $3, $4, $5::int, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id`,
      [...values, o],
    );
  const [row] = await insert(outcome);
  if (row) return { id: row.id, duplicateKey: false };
  const [known] = await sql.query(`SELECT 1 FROM imip_messages WHERE message_id = $1`, [mail.messageId]);
  if (known) return null;
  const [dup] = await insert('duplicate');
  return dup ? { id: dup.id, duplicateKey: true } : null;
}

export async function finishImipMessage(
  sql: SqlQuery,
  id: string,
  result: { outcome: ImipOutcome; bookingId?: string | null; role?: MagicLinkRole | null; proposalId?: string | null; detail?: string | null },
): Promise<void> {
  await sql.query(
    `UPDATE imip_messages SET outcome = $2, booking_id = $3::uuid, attendee_role = $4::magic_link_role, proposal_id = $5::uuid, detail = $6 WHERE id = $1::uuid`,
    [id, result.outcome, result.bookingId ?? null, result.role ?? null, result.proposalId ?? null, result.detail ?? null],
  );
}

/** A party's calendar answer, kept per booking and role. */
export async function recordReply(
  sql: SqlQuery,
  bookingId: string,
  role: MagicLinkRole,
  partstat: string,
  sequence: number,
  now: Date,
): Promise<void> {
  await sql.query(
    `INSERT INTO booking_attendees (booking_id, role, partstat, replied_at, reply_sequence, updated_at)
     VALUES ($1::uuid, $2::magic_link_role, $3, $4::timestamptz, $5::int, $4::timestamptz)
     ON CONFLICT (booking_id, role) DO UPDATE SET partstat = EXCLUDED.partstat, replied_at = EXCLUDED.replied_at,
       reply_sequence = EXCLUDED.reply_sequence, updated_at = EXCLUDED.updated_at`,
    [bookingId, role, partstat, now.toISOString(), sequence],
  );
}

// ---- delivery reports ------------------------------------------------------------------------------

/** The outbox mail with this Message-ID (angle brackets included). */
export async function findOutboxMail(
  sql: SqlQuery,
  messageId: string,
): Promise<{ id: string; booking_id: string | null; recipient_hash: string } | undefined> {
  const [mail] = await sql.query<{ id: string; booking_id: string | null; recipient_hash: string }>(
    `SELECT id, booking_id, recipient_hash FROM outbox_messages WHERE message_id = $1`,
    [messageId],
  );
  return mail;
}

export async function insertDeliveryEvent(
  sql: SqlQuery,
  e: { outboxMessageId: string; status: string; bounceType: string | null; detail: string | null; receivedAt: Date },
): Promise<void> {
  await sql.query(
    `INSERT INTO mail_delivery_events (outbox_message_id, status, bounce_type, detail, received_at) VALUES ($1::uuid, $2, $3, $4, $5::timestamptz)`,
    [e.outboxMessageId, e.status, e.bounceType, e.detail, e.receivedAt.toISOString()],
  );
}

/** Marks a party of a booking as bounced or complained (the newest detail kept when this one has none). */
export async function markAttendee(
  sql: SqlQuery,
  a: { bookingId: string; role: MagicLinkRole; mark: 'bounced' | 'complained'; detail: string | null; at: Date },
): Promise<void> {
  const column = a.mark === 'complained' ? 'complained_at' : 'bounced_at';
  await sql.query(
    `INSERT INTO booking_attendees (booking_id, role, ${column}, bounce_detail, updated_at)
     VALUES ($1::uuid, $2::magic_link_role, $3::timestamptz, $4, $3::timestamptz)
     ON CONFLICT (booking_id, role) DO UPDATE SET ${column} = EXCLUDED.${column},
       bounce_detail = coalesce(EXCLUDED.bounce_detail, booking_attendees.bounce_detail), updated_at = EXCLUDED.updated_at`,
    [a.bookingId, a.role, a.at.toISOString(), a.detail],
  );
}

/** The booking's customer lookup hash and its resource's address (the host's). */
export async function selectRecipients(sql: SqlQuery, bookingId: string): Promise<{ customer_email_hash: string; email: string | null } | undefined> {
  const [row] = await sql.query<{ customer_email_hash: string; email: string | null }>(
    `SELECT b.customer_email_hash, r.email FROM bookings b LEFT JOIN resources r ON r.id = b.resource_id WHERE b.id = $1::uuid`,
    [bookingId],
  );
  return row;
}

/** The slot in the same home as slot `slotId` starting at `startAt`, one ending at `endAt` first. */
export async function selectSlotStartingAt(sql: SqlQuery, slotId: string | null, startAt: Date, endAt: Date): Promise<{ id: string } | undefined> {
  const [slot] = await sql.query<{ id: string }>(
    `SELECT s.id FROM slots s JOIN slots cur ON cur.id = $1::uuid
      WHERE s.start_at = $2::timestamptz AND s.resource_id IS NOT DISTINCT FROM cur.resource_id
        AND s.location_id IS NOT DISTINCT FROM cur.location_id AND s.form_id IS NOT DISTINCT FROM cur.form_id
      ORDER BY (s.end_at = $3::timestamptz) DESC LIMIT 1`,
    [slotId, startAt.toISOString(), endAt.toISOString()],
  );
  return slot;
}
