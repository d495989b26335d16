import type { SqlQuery } from '../db/database.js';

/**
 * The outbox_messages table as the delivery worker and staff change it. Claims are leases: a
 * claimed row's attempts count up and its due_at moves to the lease's end, so a worker that dies
 * leaves the row to the next one.
 */

export interface ClaimedRow {
  id: string;
  kind: string;
  ics_uid: string | null;
  ics_sequence: number | null;
  ics_method: string | null;
  recipient: string;
  message_id: string;
  content: string;
  attempts: number;
}

export type AttemptRow = Pick<ClaimedRow, 'id' | 'kind' | 'ics_method' | 'ics_uid' | 'ics_sequence' | 'attempts'>;

export async function countPending(db: SqlQuery): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_messages WHERE status = 'PENDING'`);
  return row?.n ?? 0;
}

/** Claims up to `limit` due rows (SKIP LOCKED: workers never wait on each other) until `leaseUntil`. */
export function claimDue(db: SqlQuery, now: Date, limit: number, leaseUntil: Date): Promise<ClaimedRow[]> {
  return db.query<ClaimedRow>(
    `WITH due AS (
       SELECT id FROM outbox_messages WHERE status = 'PENDING' AND due_at <= $1::timestamptz
       ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE outbox_messages o SET attempts = o.attempts + 1, due_at = $3::timestamptz, updated_at = $1::timestamptz
     FROM due WHERE o.id = due.id
     RETURNING o.id, o.kind, o.ics_uid, o.ics_sequence, o.ics_method, o.recipient, o.message_id, o.content, o.attempts`,
    [now.toISOString(), limit, leaseUntil.toISOString()],
  );
}

/** Gives claimed rows back (due now, the attempt not counted) while they are still ours; returns how many. */
export async function releaseClaims(db: SqlQuery, rows: Pick<ClaimedRow, 'id' | 'attempts'>[], now: Date): Promise<number> {
  const released = await db.query(
    `UPDATE outbox_messages o SET attempts = o.attempts - 1, due_at = $3::timestamptz
     FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
     WHERE o.id = r.id AND o.attempts = r.attempts AND o.status = 'PENDING'
     RETURNING o.id`,
    [rows.map((r) => r.id), rows.map((r) => r.attempts), now.toISOString()],
  );
  return released.length;
}

/** Due rows whose last allowed attempt was claimed and never finished become FAILED. */
export function failAbandoned(db: SqlQuery, now: Date, maxAttempts: number): Promise<AttemptRow[]> {
  return db.query<AttemptRow>(
    `UPDATE outbox_messages SET status = 'FAILED', updated_at = $1::timestamptz,
       last_error = coalesce(last_error || ' / ', '') || 'gave up: attempt ' || attempts || ' did not finish'
     WHERE status = 'PENDING' AND due_at <= $1::timestamptz AND attempts >= $2
     RETURNING id, kind, ics_method, ics_uid, ics_sequence, attempts`,
    [now.toISOString(), maxAttempts],
  );
}

export async function markSent(db: SqlQuery, id: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE outbox_messages SET status = 'SENT', sent_at = $2::timestamptz, last_error = NULL, updated_at = $2::timestamptz
     WHERE id = $1::uuid AND status = 'PENDING'`,
    [id, now.toISOString()],
  );
}

/** A failed attempt: PENDING again from `dueAt`, or FAILED; only while the claim (attempts) is still ours. */
export async function markAttemptFailed(
  db: SqlQuery,
  a: { id: string; attempts: number; status: 'PENDING' | 'FAILED'; dueAt: Date; error: string; now: Date },
): Promise<void> {
  await db.query(
    `UPDATE outbox_messages SET status = $3::outbox_status, due_at = $4::timestamptz, last_error = $5, updated_at = $6::timestamptz
     WHERE id = $1::uuid AND status = 'PENDING' AND attempts = $2`,
    [a.id, a.attempts, a.status, a.dueAt.toISOString(), a.error, a.now.toISOString()],
  );
}

/** A FAILED mail due again now with its attempts reset; false when it is not FAILED. */
export async function requeueFailed(q: SqlQuery, id: string, now: Date): Promise<boolean> {
  const [retried] = await q.query<{ id: string }>(
    `UPDATE outbox_messages SET status = 'PENDING', attempts = 0, due_at = $2::timestamptz, updated_at = $2::timestamptz
     WHERE id = $1::uuid AND status = 'FAILED' RETURNING id`,
    [id, now.toISOString()],
  );
  return Boolean(retried);
}

export async function selectOutboxStatus(q: SqlQuery, id: string): Promise<string | null> {
  const [row] = await q.query<{ status: string }>(`SELECT status FROM outbox_messages WHERE id = $1::uuid`, [id]);
  return row?.status ?? null;
}

/**
 * Inserts mails given as a JSON array of outbox rows (kind, booking_id, registration_id, ics_uid,
 * ics_sequence, ics_method, recipient, recipient_hash, dedupe_key, content, due_at); each gets a
 * UUIDv7 id and a Message-ID at `messageIdDomain`. A row whose key is already queued is skipped
 * (ON CONFLICT DO NOTHING); the ids inserted come back.
 */
export function insertOutboxRows(tx: SqlQuery, rowsJson: string, messageIdDomain: string): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>(
    `INSERT INTO outbox_messages (id, kind, booking_id, registration_id, ics_uid, ics_sequence, ics_method, recipient,
       recipient_hash, dedupe_key, message_id, content, due_at)
     SELECT x.id, x.kind, x.booking_id, x.registration_id, x.ics_uid, x.ics_sequence, x.ics_method, x.recipient,
       x.recipient_hash, x.dedupe_key, '<' || x.id || '@' || $2::text || '>', x.content, coalesce(x.due_at, now())
     FROM (SELECT uuid_v7() AS id, r.* FROM jsonb_to_recordset($1::jsonb) AS r(kind text, booking_id uuid, registration_id uuid,
       ics_uid text, ics_sequence int, ics_method text, recipient text, recipient_hash text, dedupe_key text, content text,
       due_at timestamptz)) AS x
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [rowsJson, messageIdDomain],
  );
}
