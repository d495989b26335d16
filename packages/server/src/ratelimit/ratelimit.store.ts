import type { SqlQuery } from '../db/database.js';

/** The rate_limit_windows table (PgRateLimitStore in store.ts): an UNLOGGED counter per key. */

/**
 * Adds `cost` to the key's window, starting a new window of `windowSeconds` when there is none or
 * it ended; the row lock makes concurrent hits on one key add up exactly.
 */
/** Adds each key's hits in one statement, keys in order (two instances never deadlock); the counts after. */
export async function hitWindows(
  sql: SqlQuery,
  keys: string[],
  costs: number[],
  windowSeconds: number,
): Promise<{ key: string; count: number; reset_in_ms: number }[]> {
  return sql.query<{ key: string; count: number; reset_in_ms: number }>(
    `INSERT INTO rate_limit_windows AS w (key, count, reset_at)
     SELECT k, c, clock_timestamp() + make_interval(secs => $3) FROM unnest($1::text[], $2::int[]) AS h(k, c) ORDER BY k
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN w.reset_at <= clock_timestamp() THEN EXCLUDED.count ELSE w.count + EXCLUDED.count END,
       reset_at = CASE WHEN w.reset_at <= clock_timestamp() THEN EXCLUDED.reset_at ELSE w.reset_at END
     RETURNING key, count, ceil(extract(epoch FROM reset_at - clock_timestamp()) * 1000)::int AS reset_in_ms`,
    [keys, costs, windowSeconds],
  );
}

export async function deleteEndedWindows(sql: SqlQuery): Promise<number> {
  const rows = await sql.query('DELETE FROM rate_limit_windows WHERE reset_at <= now() RETURNING 1');
  return rows.length;
}
