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
export async function recordReply(sql: SqlQuery, bookingId: string, role: MagicLinkRole, partstat: string, sequence: number, now: Date): Promise<void> {
  await sql.query(
    `INSERT INTO booking_attendees (booking_id, role, partstat, replied_at, reply_sequence, updated_at)
     VALUES ($1::uuid, $2::magic_link_role, $3, $4::timestamptz, $5::int, $4::timestamptz)
     ON CONFLICT (booking_id, role) DO UPDATE SET partstat = EXCLUDED.partstat, replied_at = EXCLUDED.replied_at,
       reply_sequence = EXCLUDED.reply_sequence, updated_at = EXCLUDED.updated_at`,
    [bookingId, role, partstat, now.toISOString(), sequence],
  );
}
