import type { SqlQuery } from '../db/database.js';

/** The magic_links table. Links are found by the sha256 of their token; the token itself is never stored. */

export interface MagicLinkRow {
  id: string;
  purpose: 'manage' | 'propose' | 'approve' | 'decline';
  booking_id: string;
  role: 'host' | 'guest';
  email_hash: string;
  proposal_id: string | null;
  expires_at: Date;
  used_at: Date | null;
}

/** Inserts links given as a JSON array of {token_hash, purpose, booking_id, role, email_hash, proposal_id, expires_at}. */
export async function insertMagicLinks(tx: SqlQuery, rowsJson: string): Promise<void> {
  await tx.query(
    `INSERT INTO magic_links (token_hash, purpose, booking_id, role, email_hash, proposal_id, expires_at)
     SELECT token_hash, purpose, booking_id, role, email_hash, proposal_id, expires_at
     FROM jsonb_to_recordset($1::jsonb) AS x(token_hash text, purpose magic_link_purpose, booking_id uuid, role magic_link_role,
       email_hash text, proposal_id uuid, expires_at timestamptz)`,
    [rowsJson],
  );
}

/** Sets the expiry of each booking's manage links (a booking given twice: its last). */
export async function setManageLinkExpiry(tx: SqlQuery, bookingIds: string[], expiries: string[]): Promise<void> {
  await tx.query(
    `UPDATE magic_links m SET expires_at = u.expires_at
       FROM unnest($1::uuid[], $2::timestamptz[]) AS u(booking_id, expires_at)
      WHERE m.booking_id = u.booking_id AND m.purpose = 'manage' AND m.expires_at <> u.expires_at`,
    [bookingIds, expiries],
  );
}

/** The link with this token hash; `forUpdate` locks it until the transaction ends. */
export async function selectMagicLink(q: SqlQuery, tokenHash: string, options: { forUpdate?: boolean } = {}): Promise<MagicLinkRow | undefined> {
  const [row] = await q.query<MagicLinkRow>(
    `SELECT id, purpose, booking_id, role, email_hash, proposal_id, expires_at, used_at FROM magic_links WHERE token_hash = $1
     ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [tokenHash],
  );
  return row;
}

/** Marks a link used; false when it already was. */
export async function markMagicLinkUsed(tx: SqlQuery, id: string, now: Date): Promise<boolean> {
  const rows = await tx.query(`UPDATE magic_links SET used_at = $2::timestamptz WHERE id = $1::uuid AND used_at IS NULL RETURNING id`, [
    id,
    now.toISOString(),
  ]);
  return rows.length === 1;
}
