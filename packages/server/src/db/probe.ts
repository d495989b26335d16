import type { SqlQuery } from './database.js';

/** The cheapest round trip: throws when the database does not answer. */
export async function ping(sql: SqlQuery): Promise<void> {
  await sql.query('SELECT 1');
}
