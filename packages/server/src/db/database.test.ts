import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/databases.js';
import { ConnectionWaitTimeout, MAX_PREPARED_STATEMENTS, openDatabase, type Database } from './database.js';
import { TryAgainError, sqlStateOf, withRetry } from './retry.js';

// SqlRunner.transaction, the plain-SQL transaction the booking hot paths run on.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let postgres: Database;
let embedded: Database;

const PROBE = `CREATE TABLE tx_probe (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO tx_probe (id) VALUES (1);`;

beforeAll(async () => {
  database = await createTestDatabase();
  postgres = await openDatabase({ url: database.url, poolMax: 2, connectionWaitMs: 100 });
  embedded = await openDatabase({ dataDir: 'memory://' });
  await postgres.sql.exec(PROBE);
  await embedded.sql.exec(PROBE);
});
afterAll(async () => {
  await postgres?.close();
  await embedded?.close();
  await database?.drop();
});

describe.each([
  ['PostgreSQL', () => postgres],
  ['PGlite', () => embedded],
])('SqlRunner.transaction on %s', (_, db) => {
  const n = async () => (await db().sql.query<{ n: number }>('SELECT n FROM tx_probe WHERE id = 1'))[0]!.n;

  it('commits what fn did when it resolves', async () => {
    const before = await n();
    const result = await db().sql.transaction(async (tx) => {
      await tx.query('UPDATE tx_probe SET n = n + 1 WHERE id = $1', [1]);
      return (await tx.query<{ n: number }>('SELECT n FROM tx_probe WHERE id = 1'))[0]!.n;
    });
    expect(result).toBe(before + 1);
    expect(await n()).toBe(before + 1);
  });

  it('rolls every statement back when fn throws, and the error reaches the caller', async () => {
    const before = await n();
    const error = await db()
      .sql.transaction(async (tx) => {
        await tx.query('UPDATE tx_probe SET n = n + 1 WHERE id = 1');
        await tx.query('INSERT INTO tx_probe (id) VALUES (1)');
      })
      .catch((e) => e);
    expect(sqlStateOf(error)).toBe('23505');
    expect(await n()).toBe(before);
    // The connection went back to a usable state.
    await db().sql.transaction((tx) => tx.query('SELECT 1'));
  });

  it('wakes the subscribers of a channel after commit only; one that throws neither fails the commit nor stops the others', async () => {
    const woken: string[] = [];
    const off = [
      db().sql.onCommitted('probe', () => {
        throw new Error('a broken wake');
      }),
      db().sql.onCommitted('probe', () => woken.push('probe')),
    ];
    try {
      const before = await n();
      await db()
        .sql.transaction(async (tx) => {
          tx.wakeAtCommit!('probe');
          throw new Error('rolled back');
        })
        .catch(() => {});
      expect(woken).toEqual([]);
      const result = await db().sql.transaction(async (tx) => {
        tx.wakeAtCommit!('probe');
        await tx.query('UPDATE tx_probe SET n = n + 1 WHERE id = $1', [1]);
        return 'committed';
      });
      expect(result).toBe('committed');
      expect(woken).toEqual(['probe']);
      expect(await n()).toBe(before + 1);
    } finally {
      for (const unsubscribe of off) unsubscribe();
    }
  });
});

describe('prepared statements', () => {
  it('prepares each parameterised text once per connection, and never more than the bound allows', async () => {
    const prepared = (s: { query: Database['sql']['query'] }) =>
      s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`).then((rows) => rows[0]!.n);
    await postgres.sql.session(async (s) => {
      const before = await prepared(s);
      await s.query('SELECT $1::int AS a', [1]);
      await s.query('SELECT $1::int AS a', [2]);
      expect(await prepared(s)).toBe(before + 1);
      // A stream of distinct texts (what a bug building SQL from values would send) stops being prepared at the bound.
      for (let i = 0; i < MAX_PREPARED_STATEMENTS + 50; i++) await s.query(`SELECT $1::int + ${i} AS a`, [1]);
      expect(await prepared(s)).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS);
      expect(await s.query('SELECT $1::int + 7 AS a', [1])).toEqual([{ a: 8 }]);
    });
  });
});

describe('timestamps from PostgreSQL', () => {
  it('reads every timestamptz as the exact instant, whatever the precision, era or server zone', async () => {
    const literals = [
      '2026-03-08 07:00:00+00',
      '2026-03-08 02:30:00.5-05',
      '2026-11-01 01:59:59.999999-04',
      '2026-10-25 01:00:00.123456+05:45',
      '0050-06-01 12:00:00+00',
      '1969-12-31 23:59:59.001+00',
      '12026-01-01 00:00:00+00',
      '0044-03-15 12:00:00+00 BC',
    ];
    // A server whose default zone is not UTC: the connection asks for UTC anyway.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${new URL(database.url).pathname.slice(1)}" SET TimeZone = 'America/New_York'`);
    await admin.end();
    // Options the URL gives are kept beside the zone.
    const url = new URL(database.url);
    url.searchParams.set('options', '-c application_name=tz-test');
    const db = await openDatabase({ url: url.toString(), poolMax: 1 });
    try {
      expect(await db.sql.query('SHOW TimeZone')).toEqual([{ TimeZone: 'UTC' }]);
      expect(await db.sql.query('SHOW application_name')).toEqual([{ application_name: 'tz-test' }]);
      const select = (expression: (literal: string) => string) =>
        `SELECT ${literals.map((l, i) => `${expression(`'${l}'::timestamptz`)} AS t${i}`).join(', ')} WHERE $1::int = 1`;
      const [row] = await db.sql.query<Record<string, Date>>(
        select((t) => t),
        [1],
      );
      const [epochs] = await db.sql.query<Record<string, string>>(
        select((t) => `(extract(epoch FROM ${t}) * 1000)::float8::text`),
        [1],
      );
      literals.forEach((literal, i) => expect(row![`t${i}`]!.getTime(), literal).toBe(Math.floor(Number(epochs![`t${i}`]))));
    } finally {
      await db.close();
    }
  });
});

describe('SqlRunner.transaction on PostgreSQL under contention', () => {
  it('gives up on a row lock held past lockTimeoutMs (transient 55P03) and does not keep the timeout afterwards', async () => {
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT * FROM tx_probe WHERE id = 1 FOR UPDATE');
      let attempts = 0;
      const error = await withRetry(
        () =>
          postgres.sql.transaction(
            async (tx) => {
              attempts++;
              await tx.query('UPDATE tx_probe SET n = n + 1 WHERE id = 1');
            },
            { lockTimeoutMs: 30 },
          ),
        { attempts: 3, baseDelayMs: 1 },
      ).catch((e) => e);
      expect(attempts).toBe(3);
      expect(error).toBeInstanceOf(TryAgainError);
      // SET LOCAL: once the transaction ended, the pooled connections wait as long as they must.
      const sessions = await Promise.all([1, 2].map(() => postgres.sql.session((s) => s.query<{ lock_timeout: string }>('SHOW lock_timeout'))));
      expect(sessions.map((rows) => rows[0]!.lock_timeout)).toEqual(['0', '0']);
    } finally {
      await other.end();
    }
  });

  it('answers TryAgainError when no pooled connection frees up in time', async () => {
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    // Both pooled connections stay taken until the third caller has given up.
    const holders = [1, 2].map(() => postgres.sql.session(() => busy));
    const waited = await postgres.sql.transaction((tx) => tx.query('SELECT 1')).catch((e) => e);
    const retried = await withRetry(() => postgres.sql.transaction((tx) => tx.query('SELECT 1'))).catch((e) => e);
    release();
    await Promise.all(holders);
    expect(waited).toBeInstanceOf(ConnectionWaitTimeout);
    expect(retried).toBeInstanceOf(TryAgainError);
    expect(await postgres.sql.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  });
});
