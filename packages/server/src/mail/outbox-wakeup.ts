import type { Logger } from 'pino';
import { listenForNotifications } from '../db/listen.js';
import { OUTBOX_CHANNEL } from './outbox.js';

/** Calls `onQueued` whenever a transaction that queued mail commits (Outbox.enqueue and booking mail intents NOTIFY); see listenForNotifications. */
export function listenForQueuedMail(databaseUrl: string, onQueued: () => void, log: Logger): { close(): Promise<void> } {
  return listenForNotifications(databaseUrl, OUTBOX_CHANNEL, onQueued, log, 'mail');
}
