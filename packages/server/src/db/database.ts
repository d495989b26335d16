import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './data-dir-lock.js';

/** Parameterised SQL ($1, $2, ...) on one connection or transaction. */
export interface SqlQuery {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Only on a transaction of SqlRunner.transaction: once it commits (never on rollback), this
   * process's `onCommitted(channel)` subscribers are called, with no NOTIFY sent (see wakeAtCommit
   * in db/listen.ts).
   */
  wakeAtCommit?(channel: string): void;
}

/**
 * Plain SQL access beside Prisma: migrations, health checks, the hot read and write paths
 * (availability, booking) and test tooling use it.
 */
export interface SqlRunner extends SqlQuery {
  /** Runs a multi-statement script. */
  exec(script: string): Promise<void>;
  /** Runs fn on one session, so session-level locks and transactions hold. */
  session<T>(fn: (runner: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Runs fn in one transaction on one connection: committed when it resolves, rolled back when it
   * throws. A row lock waited on longer than lockTimeoutMs fails with SQLSTATE 55P03 (transient).
   */
  transaction<T>(fn: (tx: SqlQuery) => Promise<T>, options?: { lockTimeoutMs?: number }): Promise<T>;
  /** Calls `fn` after each commit of a transaction of this database, in this process, that asked to wake `channel`; returns the unsubscribe. */
  onCommitted(channel: string, fn: () => void): () => void;
}

/** The onCommitted subscribers of one database, and the wakes a committed transaction asked for. */
function commitWakes() {
  const subscribers = new Map<string, Set<() => void>>();
  return {
    onCommitted(channel: string, fn: () => void) {
      let set = subscribers.get(channel);
      if (!set) subscribers.set(channel, (set = new Set()));
      set.add(fn);
      return () => set.delete(fn);
    },
    committed(channels: Set<string>) {
      for (const channel of channels) {
        for (const fn of subscribers.get(channel) ?? []) {
          // A wake is a shortcut past the workers' poll: one that fails must not fail a committed transaction.
          try {
            fn();
          } catch {}
        }
      }
    },
  };
}

/** Waiting for a free connection took longer than the pool allows: the database is overloaded. */
export class ConnectionWaitTimeout extends Error {
  constructor(cause: unknown) {
    super('timed out waiting for a database connection', { cause });
  }
}

/**
 * The connection died while COMMIT was on its way: the transaction may or may not have committed.
 * Running it again could do it twice, so the caller is told to try again instead (an idempotent
 * request then replays whatever did commit).
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(cause: unknown) {
    super('the connection was lost during COMMIT', { cause });
  }
}

/** Statements written once as plain SQL, run inside a Prisma interactive transaction. */
export function sqlIn(tx: { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> }): SqlQuery {
  return { query: <T>(text: string, params: unknown[] = []) => tx.$queryRawUnsafe<T[]>(text, ...params) };
}

export interface Database {
  kind: 'postgres' | 'pglite';
  prisma: PrismaClient;
  sql: SqlRunner;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; without it the embedded PGlite database is used. */
  url?: string;
  /** Where PGlite keeps its files; 'memory://' keeps nothing. */
  dataDir?: string;
  poolMax?: number;
  /** Longest wait for a free pooled connection before ConnectionWaitTimeout (default 10 s). */
  connectionWaitMs?: number;
  /** Per connection: longest statement, and longest idle time inside a transaction (0 = no limit). */
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  /** A pooled connection failed (terminated by the server, network gone); the pool replaces it. */
  onConnectionError?: (error: Error) => void;
  /** Called with every statement sent on a pooled connection, Prisma's and plain SQL's (tests count them). PostgreSQL only. */
  onStatement?: (sql: string) => void;
  /** Called on every pooled-connection checkout, Prisma's and plain SQL's (tests prove a request touched no database). */
  onCheckout?: () => void;
}

/** The one place that decides which database runs; nothing else knows. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPGlite(options.dataDir ?? './.slotwise');
}

// Statements with parameters run as named prepared statements: PostgreSQL parses each text once per
// connection instead of on every call (the booking statements are long), and after five calls plans
// it once too, unless its generic plan looks dearer than a plan for each call's values (see
// lockSlotsToBook). Named by text, process-wide; a bound keeps a stream of ad-hoc texts from piling
// up statements on the server.
const preparedNames = new Map<string, string>();
export const MAX_PREPARED_STATEMENTS = 200;

function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (!name && preparedNames.size < MAX_PREPARED_STATEMENTS) preparedNames.set(text, (name = `slotwise_${preparedNames.size + 1}`));
  return name;
}

const TIMESTAMPTZ_OID = 1184;
const defaultTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID);

/**
 * timestamptz as a UTC session prints it ("2026-03-08 07:00:00.123456+00"), read by position:
 * postgres-date's regular expressions were a tenth of the time of a week of slots. Anything
 * else (BC, infinity, years past 9999) goes to the default parser.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const end = text.length - 3;
  if (
    end < 19 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(10) !== 32 ||
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(end) !== 43 ||
    text.charCodeAt(end + 1) !== 48 ||
    text.charCodeAt(end + 2) !== 48
  ) {
    return defaultTimestamptz(text);
  }
  const year = digitsAt(text, 0, 4);
  // Date.UTC reads years below 100 as 19xx.
  if (year < 100) return defaultTimestamptz(text);
  let ms = 0;
  if (end > 20 && text.charCodeAt(19) === 46) {
    const places = end - 20;
    const fraction = digitsAt(text, 20, end);
    ms = places >= 3 ? Math.floor(fraction / 10 ** (places - 3)) : fraction * 10 ** (3 - places);
  }
  return new Date(
    Date.UTC(year, digitsAt(text, 5, 7) - 1, digitsAt(text, 8, 10), digitsAt(text, 11, 13), digitsAt(text, 14, 16), digitsAt(text, 17, 19), ms),
  );
}

function digitsAt(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const { pool, sql } = openPgPool(url, options);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    sql,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * A pg pool with this server's session settings and plain SQL over it, without Prisma (the read
 * replica's pool is one). `applicationName` shows in pg_stat_activity.
 */
export function openPgPool(
  url: string,
  options: DatabaseOptions & { applicationName?: string },
): { pool: pg.Pool; sql: SqlRunner; close(): Promise<void> } {
  // Set on every new connection by one SET statement rather than as startup `options`: PgBouncer
  // (1.18 in Debian 12) refuses that startup parameter. Options given in the URL still go as such.
  const sessionSettings = [
    // Timestamps print in UTC whatever the server's zone (see parseTimestamptz); every zone-aware
    // statement names its zone explicitly.
    "SET TimeZone = 'UTC'",
    // No request holds a connection forever: a runaway statement is cancelled, and a transaction
    // left open by a stuck caller is ended by the server (its connection is then replaced).
    `SET statement_timeout = ${options.statementTimeoutMs ?? 0}`,
    `SET idle_in_transaction_session_timeout = ${options.idleInTransactionTimeoutMs ?? 0}`,
  ].join('; ');
  const pool = new pg.Pool({
    connectionString: url,
    // The pool hands a new connection out only once this has run: no caller's query comes before it.
    onConnect: (client) => client.query(sessionSettings),
    max: options.poolMax ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectionWaitMs ?? 10_000,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
  });
  // A connection can die at any time (pg_terminate_backend, failover, network). pg-pool only
  // listens for errors on idle clients; a checked-out client with no 'error' listener would throw
  // from the EventEmitter and end the process. With one on every client, the query in flight
  // fails, the client is released as broken and the pool opens a fresh one on the next checkout.
  const onConnectionError = options.onConnectionError ?? (() => {});
  pool.on('connect', (client) => client.on('error', onConnectionError));
  if (options.onCheckout) pool.on('acquire', options.onCheckout);
  if (options.onStatement) pool.on('connect', (client) => reportStatements(client, options.onStatement!));
  // The pool re-emits an idle client's error; the client's own listener has already reported it.
  pool.on('error', () => {});
  const wakes = commitWakes();
  const runner = (client: pg.Pool | pg.PoolClient): SqlRunner => ({
    onCommitted: wakes.onCommitted,
    async query(text, params) {
      const name = params?.length ? preparedName(text) : undefined;
      return (await client.query({ name, text, values: params as unknown[], types: PG_TYPES })).rows;
    },
    async exec(script) {
      await client.query(script);
    },
    async session(fn) {
      if (!(client instanceof pg.Pool)) return fn(runner(client));
      const conn = await connect();
      try {
        return await fn(runner(conn));
      } finally {
        conn.release();
      }
    },
    async transaction(fn, { lockTimeoutMs } = {}) {
      const conn = client instanceof pg.Pool ? await connect() : client;
      let broken: Error | undefined;
      let committing = false;
      try {
        // One round trip for both: the lock timeout lasts only as long as this transaction.
        await conn.query(lockTimeoutMs ? `BEGIN; SET LOCAL lock_timeout = ${Math.ceil(lockTimeoutMs)}` : 'BEGIN');
        const channels = new Set<string>();
        const result = await fn({ ...runner(conn), wakeAtCommit: (channel) => channels.add(channel) });
        committing = true;
        await conn.query('COMMIT');
        wakes.committed(channels);
        return result;
      } catch (error) {
        await conn.query('ROLLBACK').catch((e: Error) => (broken = e));
        // Before COMMIT a lost connection means the server rolled back; during it nobody knows.
        if (committing && broken) throw new CommitOutcomeUnknownError(error);
        throw error;
      } finally {
        // A connection that cannot even roll back is not given to the next caller.
        if (client instanceof pg.Pool) (conn as pg.PoolClient).release(broken);
      }
    },
  });
  const connect = () =>
    pool.connect().catch((error: Error) => {
      throw /timeout/i.test(error.message) ? new ConnectionWaitTimeout(error) : error;
    });
  return { pool, sql: runner(pool), close: () => pool.end() };
}

/** Hands the text of every query the client sends to `report` (Prisma's adapter and db.sql share the pool's clients). */
function reportStatements(client: pg.PoolClient, report: (sql: string) => void): void {
  // Sent through the prototype looked up at call time, so a process-wide hook on pg.Client (the
  // query-plan recorder of test/statement-plans.ts) still sees the statement.
  const proto = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
  client.query = ((...args: unknown[]) => {
    const [config] = args;
    report(typeof config === 'string' ? config : (config as { text: string }).text);
    return proto.query.apply(client, args);
  }) as typeof client.query;
}

async function openPGlite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : resolve(dataDir, 'pgdata');
  if (!inMemory) mkdirSync(dir, { recursive: true });
  const lock = inMemory ? undefined : lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir, { extensions: { btree_gist } });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  // PGlite is one connection in one process: every caller already shares the session.
  const wakes = commitWakes();
  const sql: SqlRunner = {
    onCommitted: wakes.onCommitted,
    async query(text, params) {
      return (await pglite.query(text, params)).rows as never[];
    },
    async exec(script) {
      await pglite.exec(script);
    },
    session: (fn) => fn(sql),
    // PGlite's own transaction keeps every other caller (Prisma included) out until it ends.
    async transaction(fn) {
      const channels = new Set<string>();
      const result = await pglite.transaction((tx) =>
        fn({ query: async (text, params) => (await tx.query(text, params)).rows as never[], wakeAtCommit: (channel) => channels.add(channel) }),
      );
      wakes.committed(channels);
      return result;
    },
  };
  return {
    kind: 'pglite',
    prisma,
    sql,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      lock?.release();
    },
  };
}
