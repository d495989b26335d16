import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/database.js';

export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The template's name changes with the migrations, so an edited migration set never reuses a stale template. */
export function templateName(): string {
  const hash = createHash('sha256');
  // Names too: a renamed migration must not reuse a template that recorded the old name.
  for (const m of readMigrations()) hash.update(`${m.name}:${m.checksum}`);
  return `slotwise_tpl_${hash.digest('hex').slice(0, 12)}`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the migrated template once per migration set (vitest globalSetup). */
export async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(4242)');
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) return;
      await admin.query(`CREATE DATABASE ${name}`);
      const db = await openDatabase({ url: databaseUrl(name) });
      try {
        await migrate(db.sql);
      } finally {
        await db.close();
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(4242)');
    }
  });
  return name;
}

/** A fresh database for one test file: a cheap copy of the migrated template, or empty. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `slotwise_t_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${templateName()}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
