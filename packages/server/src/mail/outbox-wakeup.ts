import type { Logger } from 'pino';
import type { SqlRunner } from '../db/database.js';
import { listenForNotifications } from '../db/listen.js';
import { OUTBOX_CHANNEL } from './outbox.js';

/** Calls `onQueued` whenever a transaction that queued mail commits (Outbox.enqueue and booking mail intents wake OUTBOX_CHANNEL); see listenForNotifications. */
export function listenForQueuedMail(db: SqlRunner, databaseUrl: string | undefined, onQueued: () => void, log: Logger): { close(): Promise<void> } {
  return listenForNotifications(db, databaseUrl, OUTBOX_CHANNEL, onQueued, log, 'mail');
}
