import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';

/** Plain SQL access beside Prisma: migrations, health checks and test tooling use it. */
export interface SqlRunner {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Runs a multi-statement script. */
  exec(script: string): Promise<void>;
  /** Runs fn on one session, so session-level locks and transactions hold. */
  session<T>(fn: (runner: SqlRunner) => Promise<T>): Promise<T>;
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
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
}

/** The one place that decides which database runs; nothing else knows. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPGlite(options.dataDir ?? './.slotwise', options);
}

function withQueryLog(prisma: PrismaClient, onQuery?: (sql: string) => void): PrismaClient {
  if (onQuery) (prisma as unknown as { $on(e: 'query', cb: (e: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query));
  return prisma;
}

function prismaLog(onQuery?: (sql: string) => void) {
  return onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const prisma = withQueryLog(new PrismaClient({ adapter: new PrismaPg(pool), log: prismaLog(options.onQuery) }), options.onQuery);
  const runner = (client: pg.Pool | pg.PoolClient): SqlRunner => ({
    async query(text, params) {
      return (await client.query(text, params as unknown[])).rows;
    },
    async exec(script) {
      await client.query(script);
    },
    async session(fn) {
      if (!(client instanceof pg.Pool)) return fn(runner(client));
      const conn = await pool.connect();
      try {
        return await fn(runner(conn));
      } finally {
        conn.release();
      }
    },
  });
  return {
    kind: 'postgres',
    prisma,
    sql: runner(pool),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPGlite(dataDir: string, options: DatabaseOptions): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : resolve(dataDir, 'pgdata');
  if (!inMemory) mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir, { extensions: { btree_gist } });
  const prisma = withQueryLog(new PrismaClient({ adapter: new PrismaPGlite(pglite), log: prismaLog(options.onQuery) }), options.onQuery);
  // PGlite is one connection in one process: every caller already shares the session.
  const sql: SqlRunner = {
    async query(text, params) {
      return (await pglite.query(text, params)).rows as never[];
    },
    async exec(script) {
      await pglite.exec(script);
    },
    session: (fn) => fn(sql),
  };
  return {
    kind: 'pglite',
    prisma,
    sql,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
