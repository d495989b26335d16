import type { Logger } from 'pino';
import type { SqlRunner } from '../db/database.js';
import { listenForNotifications } from '../db/listen.js';
import { DOMAIN_EVENTS_CHANNEL } from './domain-events.js';

/** Calls `onRecorded` whenever a transaction that recorded domain events commits (they wake DOMAIN_EVENTS_CHANNEL); see listenForNotifications. */
export function listenForEvents(db: SqlRunner, databaseUrl: string | undefined, onRecorded: () => void, log: Logger): { close(): Promise<void> } {
  return listenForNotifications(db, databaseUrl, DOMAIN_EVENTS_CHANNEL, onRecorded, log, 'webhook delivery (and the event-bus relay)');
}
