import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlQuery, SqlRunner } from './database.js';

const RECONNECT_MS = 5_000;

/**
 * Calls a channel's handler whenever a transaction that wakes that channel commits (wakeAtCommit), so
 * a worker acts at once rather than at its next poll: this process's own transactions directly, anyone
 * else's (other processes, Prisma transactions) through PostgreSQL NOTIFY on one dedicated connection
 * for all the channels when `databaseUrl` is given. Losing it loses only the shortcut: the polls go on,
 * and the listener reconnects every few seconds (then wakes every handler once, for anything committed
 * meanwhile).
 */
export function listenForNotifications(
  db: SqlRunner,
  databaseUrl: string | undefined,
  handlers: Record<string, () => void>,
  log: Logger,
): { close(): Promise<void> } {
  const channels = Object.keys(handlers);
  const unsubscribe = channels.map((channel) => db.onCommitted(channel, handlers[channel]!));
  const stopInProcess = () => unsubscribe.forEach((stop) => stop());
  if (!databaseUrl) return { close: async () => stopInProcess() };
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
    client.on('notification', (n) => handlers[n.channel]?.());
    client.on('error', (err) => {
      log.warn({ err, channels }, 'the wake-up listener lost its connection; background jobs are still polled');
      drop(client);
    });
    client.on('end', () => drop(client));
    try {
      await client.connect();
      await client.query(channels.map((channel) => `LISTEN ${channel}`).join('; '));
      for (const channel of channels) handlers[channel]!();
    } catch (err) {
      log.warn({ err, channels }, 'the wake-up listener cannot connect; background jobs are still polled');
      drop(client);
    }
  }

  void connect();
  return {
    async close() {
      stopInProcess();
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

/**
 * Wakes `channel`'s listeners (listenForNotifications) once the caller's transaction commits, never
 * for a rollback. In this process's own transactions directly: every process runs the workers these
 * wakes are for, so the one that committed acts at once and the others find nothing new at their
 * poll; and a NOTIFY would make PostgreSQL serialize every such commit on its notification queue.
 * Anywhere else by NOTIFY, which PostgreSQL delivers at commit: returned as a FROM item for the
 * caller's statement (`param` adds the channel as a parameter), or null when nothing is to be sent.
 */
export function wakeAtCommit(tx: SqlQuery, channel: string, param: (value: string) => string): string | null {
  if (tx.wakeAtCommit) {
    tx.wakeAtCommit(channel);
    return null;
  }
  return `pg_notify(${param(channel)}, '')`;
}

/** wakeAtCommit as a statement of its own, sent only when a NOTIFY is needed. */
export async function notifyAtCommit(tx: SqlQuery, channel: string): Promise<void> {
  const notify = wakeAtCommit(tx, channel, () => '$1');
  if (notify) await tx.query(`SELECT true AS notified FROM ${notify}`, [channel]);
}
