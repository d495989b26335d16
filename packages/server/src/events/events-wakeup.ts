import type { Logger } from 'pino';
import { listenForNotifications } from '../db/listen.js';
import { EVENTS_CHANNEL } from './domain-events.js';

/** Calls `onRecorded` whenever a transaction that recorded domain events commits (recordEvents NOTIFYs). */
export function listenForEvents(databaseUrl: string, onRecorded: () => void, log: Logger): { close(): Promise<void> } {
  return listenForNotifications(databaseUrl, EVENTS_CHANNEL, onRecorded, log, 'webhook delivery (and the event-bus relay)');
}
