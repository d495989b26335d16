import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SqlRunner } from './database.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Any fixed number; every instance takes the same lock, so only one migrates at a time.
const MIGRATION_LOCK_KEY = 7_301_942;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(dir + file, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

async function appliedMigrations(db: SqlRunner): Promise<AppliedRow[]> {
  const [exists] = await db.query<{ t: string | null }>(`SELECT to_regclass('public.schema_migrations')::text AS t`);
  if (!exists?.t) return [];
  return db.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
}

function verifyApplied(applied: AppliedRow[], migrations: Migration[]): void {
  for (const row of applied) {
    const file = migrations.find((m) => m.version === row.version);
    if (!file) throw new MigrationError(`Migration ${row.name} is applied in the database but its file is missing`);
    if (file.checksum !== row.checksum) {
      throw new MigrationError(`Migration ${row.name} was edited after it was applied (checksum differs); add a new migration instead`);
    }
  }
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock
 * so concurrent starts apply each migration exactly once. Returns the names applied.
 */
export async function migrate(db: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  return db.session(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const applied = await appliedMigrations(session);
      verifyApplied(applied, migrations);
      const done = new Set(applied.map((a) => a.version));
      const names: string[] = [];
      for (const m of migrations.filter((m) => !done.has(m.version))) {
        // A migration may rewrite a big table: the per-connection statement timeout is for requests.
        await session.exec('BEGIN; SET LOCAL statement_timeout = 0');
        try {
          await session.exec(m.sql);
          await session.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
          await session.exec('COMMIT');
        } catch (err) {
          await session.exec('ROLLBACK');
          throw new MigrationError(`Migration ${m.name} failed: ${(err as Error).message}`);
        }
        names.push(m.name);
      }
      return names;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

/** Pending migration names, or an error when an applied one was edited; used by /readyz. */
export async function pendingMigrations(db: SqlRunner, migrations = readMigrations()): Promise<string[]> {
  const applied = await appliedMigrations(db);
  verifyApplied(applied, migrations);
  const done = new Set(applied.map((a) => a.version));
  return migrations.filter((m) => !done.has(m.version)).map((m) => m.name);
}
