import type { SqlQuery } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { requeueFailed, selectOutboxStatus } from './mail.store.js';

/**
 * Puts a FAILED mail back in the queue, due now, with its attempts reset to 0 so it gets the full
 * MAIL_MAX_ATTEMPTS again; last_error stays until the next attempt replaces it. CANCELLED mails
 * stay cancelled: whoever cancelled them (a dropped reminder, an obsolete invite) meant it.
 * One statement, so two staff members retrying at once re-queue it once.
 */
export async function retryOutboxMessage(q: SqlQuery, id: string, now: Date): Promise<void> {
  if (await requeueFailed(q, id, now)) return;
  const status = await selectOutboxStatus(q, id);
  if (!status) throw new NotFoundError('OutboxMessage', id);
  throw ValidationError.field('id', `only a FAILED message can be retried; this one is ${status}`);
}
