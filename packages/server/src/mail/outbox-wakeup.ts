import pg from 'pg';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL } from './outbox.js';

const RECONNECT_MS = 5_000;

/**
 * Calls `onQueued` whenever a transaction that queued mail commits (Outbox.enqueue NOTIFYs, and
 * PostgreSQL delivers a NOTIFY only at commit), so mail leaves at once rather than at the next
 * poll. PostgreSQL only, on one dedicated connection. Losing it loses only the shortcut: the
 * poll goes on, and the listener reconnects every few seconds (then wakes once, for anything
 * committed meanwhile).
 */
export function listenForQueuedMail(databaseUrl: string, onQueued: () => void, log: Logger): { close(): Promise<void> } {
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const drop = (client: pg.Client) => {
    if (closed || current !== client) return;
    current = undefined;
    client.end().catch(() => {});
    retry = setTimeout(connect, RECONNECT_MS).unref();
  };

  async function connect() {
    if (closed) return;
    const client = new pg.Client({ connectionString: databaseUrl });
    current = client;
    client.on('notification', () => onQueued());
    client.on('error', (err) => {
      log.warn({ err }, 'outbox listener lost its connection; mail is still polled');
      drop(client);
    });
    client.on('end', () => drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      onQueued();
    } catch (err) {
      log.warn({ err }, 'outbox listener cannot connect; mail is still polled');
      drop(client);
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await current?.end().catch(() => {});
    },
  };
}
