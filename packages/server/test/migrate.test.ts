import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate, MigrationError, pendingMigrations, readMigrations } from '../src/db/migrate.js';
import { createTestDatabase } from './databases.js';

const migrations = readMigrations();
const allNames = migrations.map((m) => m.name);

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;
const created: TestDatabase[] = [];
const opened: Database[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ empty: true });
  created.push(database);
  return database;
}

async function open(url: string): Promise<Database> {
  const db = await openDatabase({ url, poolMax: 2 });
  opened.push(db);
  return db;
}

afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  await Promise.all(created.map((database) => database.drop()));
});

describe('migrate on PostgreSQL', () => {
  let db: Database;
  beforeAll(async () => {
    db = await open((await emptyDatabase()).url);
  });

  it('reports every migration as pending on an empty database', async () => {
    expect(migrations.length).toBeGreaterThan(0);
    expect(await pendingMigrations(db.sql)).toEqual(allNames);
  });

  it('applies all migrations once, then none', async () => {
    expect(await migrate(db.sql)).toEqual(allNames);
    expect(await pendingMigrations(db.sql)).toEqual([]);
    expect(await migrate(db.sql)).toEqual([]);
    const rows = await db.sql.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, checksum: m.checksum })));
  });

  const extra = { version: 9000, name: '9000_test_extra', sql: 'CREATE TABLE migrate_test_extra (id int)', checksum: 'x' };

  it('reports a migration added later as pending, and applies only that one', async () => {
    expect(await pendingMigrations(db.sql, [...migrations, extra])).toEqual(['9000_test_extra']);
    expect(await migrate(db.sql, [...migrations, extra])).toEqual(['9000_test_extra']);
    expect(await pendingMigrations(db.sql, [...migrations, extra])).toEqual([]);
  });

  it('refuses an applied migration that was edited, naming it', async () => {
    const [first, ...rest] = migrations;
    const edited = [{ ...first!, sql: `${first!.sql}\n-- edited`, checksum: 'edited' }, ...rest];
    const attempt = migrate(db.sql, edited);
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(new RegExp(`Migration ${first!.name} was edited`));
    await expect(pendingMigrations(db.sql, edited)).rejects.toThrow(first!.name);
  });

  it('rolls back a failing migration and names it', async () => {
    const broken = { version: 9998, name: '9998_broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();', checksum: 'b' };
    const list = [...migrations, extra, broken];
    await expect(migrate(db.sql, list)).rejects.toThrow(/Migration 9998_broken failed/);
    const [exists] = await db.sql.query<{ t: string | null }>(`SELECT to_regclass('public.half_done')::text AS t`);
    expect(exists!.t).toBeNull();
    expect(await db.sql.query('SELECT 1 FROM schema_migrations WHERE version = 9998')).toEqual([]);
  });
});

describe('concurrent migrate', () => {
  it('two instances starting together on a fresh database apply each migration exactly once', async () => {
    const { url } = await emptyDatabase();
    const [a, b] = await Promise.all([open(url), open(url)]);
    // A slow last migration keeps the first instance busy long after the second one has started.
    const slow = { version: 9001, name: '9001_slow', sql: 'SELECT pg_sleep(0.3); CREATE TABLE concurrency_probe (id int);', checksum: 's' };
    const list = [...migrations, slow];
    const [appliedA, appliedB] = await Promise.all([migrate(a.sql, list), migrate(b.sql, list)]);
    // One of them did the work under the lock; the other waited and found nothing left.
    expect([appliedA, appliedB].sort((x, y) => x.length - y.length)).toEqual([[], [...allNames, '9001_slow']]);
    const rows = await a.sql.query<{ version: number; n: number }>(
      'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
    );
    expect(rows).toEqual(list.map((m) => ({ version: m.version, n: 1 })));
  });
});

describe('migrate on PGlite', () => {
  it('applies all migrations in memory, then none', async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      expect(db.kind).toBe('pglite');
      expect(await migrate(db.sql)).toEqual(allNames);
      expect(await migrate(db.sql)).toEqual([]);
      expect(await pendingMigrations(db.sql)).toEqual([]);
      const [row] = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(row!.n).toBe(migrations.length);
    } finally {
      await db.close();
    }
  });
});
