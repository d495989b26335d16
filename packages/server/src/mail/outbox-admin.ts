import type { SqlQuery } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';

/**
 * Puts a FAILED mail back in the queue, due now, with its attempts reset to 0 so it gets the full
 * MAIL_MAX_ATTEMPTS again; last_error stays until the next attempt replaces it. CANCELLED mails
 * stay cancelled: whoever cancelled them (a dropped reminder, an obsolete invite) meant it.
 * One statement, so two staff members retrying at once re-queue it once.
 */
export async function retryOutboxMessage(q: SqlQuery, id: string, now: Date): Promise<void> {
  const [retried] = await q.query<{ id: string }>(
    `UPDATE outbox_messages SET status = 'PENDING', attempts = 0, due_at = $2::timestamptz, updated_at = $2::timestamptz
     WHERE id = $1::uuid AND status = 'FAILED' RETURNING id`,
    [id, now.toISOString()],
  );
  if (retried) return;
  const [row] = await q.query<{ status: string }>(`SELECT status FROM outbox_messages WHERE id = $1::uuid`, [id]);
  if (!row) throw new NotFoundError('OutboxMessage', id);
  throw ValidationError.field('id', `only a FAILED message can be retried; this one is ${row.status}`);
}
