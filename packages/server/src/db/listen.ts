import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlQuery } from './database.js';

const RECONNECT_MS = 5_000;

/**
 * Calls `onNotify` whenever a transaction that NOTIFYs `channel` commits (PostgreSQL delivers a
 * NOTIFY only at commit), so a worker acts at once rather than at its next poll. PostgreSQL only,
 * on one dedicated connection. Losing it loses only the shortcut: the poll goes on, and the
 * listener reconnects every few seconds (then wakes once, for anything committed meanwhile).
 */
export function listenForNotifications(
  databaseUrl: string,
  channel: string,
  onNotify: () => void,
  log: Logger,
  what: string,
): { close(): Promise<void> } {
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
    client.on('notification', () => onNotify());
    client.on('error', (err) => {
      log.warn({ err, channel }, `${channel} listener lost its connection; ${what} is still polled`);
      drop(client);
    });
    client.on('end', () => drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
      onNotify();
    } catch (err) {
      log.warn({ err, channel }, `${channel} listener cannot connect; ${what} is still polled`);
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

/** Starts listening on `channel` on a dedicated connection (the channel is a fixed identifier, never a value). */
export async function listen(client: pg.ClientBase, channel: string): Promise<void> {
  await client.query(`LISTEN ${channel}`);
}

/** NOTIFY `channel` with each payload (each under 8000 bytes), in order, in one statement. */
export async function notify(client: pg.ClientBase, channel: string, payloads: string[]): Promise<void> {
  await client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [channel, payloads]);
}

/** NOTIFY `channel` from inside the caller's transaction: PostgreSQL delivers it at commit only (never for a rollback). */
export async function notifyAtCommit(tx: SqlQuery, channel: string): Promise<void> {
  await tx.query(`SELECT true AS notified FROM pg_notify($1, '')`, [channel]);
}
