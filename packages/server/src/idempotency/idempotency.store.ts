import type { SqlQuery } from '../db/database.js';

/**
 * Idempotency records, plain SQL on the pool: two of these statements run on every mutation that
 * carries a key. A row whose response is JSON `null` is a claim (the first request still runs).
 */

export interface RecordKey {
  key: string;
  actor: string;
  payloadHash: string;
}

/**
 * Claims (key, actor); true when this caller won. An expired record, or a claim older than
 * `abandonedAfterSeconds` whose response never arrived, is overwritten as if it were not there.
 */
export async function claimRecord(
  sql: SqlQuery,
  record: RecordKey & { operation: string },
  ttlSeconds: number,
  abandonedAfterSeconds: number,
): Promise<boolean> {
  const claimed = await sql.query(
    `INSERT INTO idempotency_records (key, actor, operation, payload_hash, response, expires_at)
     VALUES ($1, $2, $3, $4, 'null'::jsonb, now() + $5::int * interval '1 second')
     ON CONFLICT (key, actor) DO UPDATE
       SET operation = EXCLUDED.operation, payload_hash = EXCLUDED.payload_hash, response = EXCLUDED.response,
           created_at = now(), expires_at = EXCLUDED.expires_at
       WHERE idempotency_records.expires_at <= now()
          OR (idempotency_records.response = 'null'::jsonb
              AND idempotency_records.created_at < now() - $6::int * interval '1 second')
     RETURNING 1`,
    [record.key, record.actor, record.operation, record.payloadHash, ttlSeconds, abandonedAfterSeconds],
  );
  return claimed.length === 1;
}

/** The live record of (key, actor), if any. */
export async function findRecord<Column>(
  sql: SqlQuery,
  key: string,
  actor: string,
): Promise<{ payloadHash: string; response: Column | null } | undefined> {
  const rows = await sql.query<{ payloadHash: string; response: Column | null }>(
    `SELECT payload_hash AS "payloadHash", response FROM idempotency_records WHERE key = $1 AND actor = $2 AND expires_at > now()`,
    [key, actor],
  );
  return rows[0];
}

/** Stores the response of a claim (only while it is still a claim). */
export async function completeRecord(sql: SqlQuery, record: RecordKey, response: unknown): Promise<void> {
  await sql.query(
    `UPDATE idempotency_records SET response = $4::jsonb
      WHERE key = $1 AND actor = $2 AND payload_hash = $3 AND response = 'null'::jsonb`,
    [record.key, record.actor, record.payloadHash, JSON.stringify(response)],
  );
}

/** Drops a claim (never a stored response). */
export async function releaseClaim(sql: SqlQuery, record: RecordKey): Promise<void> {
  await sql.query(`DELETE FROM idempotency_records WHERE key = $1 AND actor = $2 AND payload_hash = $3 AND response = 'null'::jsonb`, [
    record.key,
    record.actor,
    record.payloadHash,
  ]);
}

/** Deletes up to `limit` expired records; SKIP LOCKED lets many instances run it at once. Returns how many. */
export async function deleteExpiredBatch(sql: SqlQuery, limit: number): Promise<number> {
  const [row] = await sql.query<{ deleted: number }>(
    `WITH doomed AS (
       SELECT key, actor FROM idempotency_records WHERE expires_at <= now()
       LIMIT $1 FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM idempotency_records r USING doomed WHERE r.key = doomed.key AND r.actor = doomed.actor RETURNING 1
     )
     SELECT count(*)::int AS deleted FROM gone`,
    [limit],
  );
  return row!.deleted;
}
