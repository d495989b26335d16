import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/databases.js';
import { waitFor } from '../../test/kit/wait.js';
import { openDatabase, type Database } from './database.js';
import { TryAgainError, isTransientDbError, sqlStateOf, withRetry } from './retry.js';

// Real PostgreSQL errors, as Prisma's driver adapter surfaces them.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;
let other: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  db = await openDatabase({ url: database.url, poolMax: 4 });
  other = new pg.Client({ connectionString: database.url });
  await other.connect();
  await db.sql.exec(`CREATE TABLE retry_probe (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO retry_probe (id) VALUES (1), (2);`);
});
afterAll(async () => {
  await other?.end();
  await db?.close();
  await database?.drop();
});

describe('withRetry', () => {
  it('retries a transaction PostgreSQL aborted as a deadlock victim; both sides finish', async () => {
    let attempts = 0;
    // Each side locks one row, waits for the other to do the same, then wants the other's row.
    const side = (first: number, second: number, ready: { count: number }) =>
      withRetry(() =>
        db.prisma.$transaction(async (tx) => {
          attempts++;
          await tx.$executeRaw`UPDATE retry_probe SET n = n + 1 WHERE id = ${first}`;
          ready.count++;
          await waitFor(() => ready.count >= 2, 'the other side to lock its row', 5000, 5);
          await tx.$executeRaw`UPDATE retry_probe SET n = n + 1 WHERE id = ${second}`;
        }),
      );
    const ready = { count: 0 };
    await Promise.all([side(1, 2, ready), side(2, 1, ready)]);
    expect(attempts).toBe(3);
    expect(await db.sql.query(`SELECT id, n FROM retry_probe ORDER BY id`)).toEqual([
      { id: 1, n: 2 },
      { id: 2, n: 2 },
    ]);
  });

  it('gives up after a bounded number of tries with TryAgainError, never the database message', async () => {
    await other.query('BEGIN');
    await other.query('SELECT * FROM retry_probe WHERE id = 1 FOR UPDATE');
    let attempts = 0;
    const error = await withRetry(
      () =>
        db.prisma.$transaction(async (tx) => {
          attempts++;
          await tx.$executeRaw`SET LOCAL lock_timeout = '20ms'`;
          await tx.$executeRaw`SELECT * FROM retry_probe WHERE id = 1 FOR UPDATE`;
        }),
      { attempts: 3, baseDelayMs: 1 },
    ).catch((e) => e);
    await other.query('ROLLBACK');
    expect(attempts).toBe(3);
    expect(error).toBeInstanceOf(TryAgainError);
    expect(error).toMatchObject({ code: 'TRY_AGAIN' });
    expect(error.message).not.toMatch(/lock|timeout|retry_probe/);
  });

  it('passes other errors through at once', async () => {
    let attempts = 0;
    const error = await withRetry(() => {
      attempts++;
      return db.prisma.$executeRaw`INSERT INTO retry_probe (id) VALUES (1)`;
    }).catch((e) => e);
    expect(attempts).toBe(1);
    expect(sqlStateOf(error)).toBe('23505');
    expect(isTransientDbError(error)).toBe(false);
  });
});
