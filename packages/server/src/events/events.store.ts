import type { SqlQuery } from '../db/database.js';
import { wakeAtCommit } from '../db/listen.js';

/** The events domain's SQL: the domain_events table and the relay's lock. */

export interface EventRow {
  id: string;
  position: string;
  type: string;
  version: number;
  aggregate_type: 'booking' | 'registration' | 'proposal' | 'waitlist';
  aggregate_id: string;
  aggregate_seq: number;
  occurred_at: Date;
  payload: Record<string, unknown>;
}

const EVENT_COLUMNS = 'id, position::text AS position, type, version, aggregate_type, aggregate_id, aggregate_seq, occurred_at, payload';

/**
 * The INSERT of events given as a JSON array (the parameter `json`, e.g. '$1') of {ord, type,
 * version, aggregate_type, aggregate_id, occurred_at, payload, new_aggregate}; each aggregate's
 * events continue its sequence in `ord` order (a new aggregate's start at 1, with no lookup). A part
 * for statements that write events with other rows; `onlyAggregatesIn` (SQL giving ids) keeps only
 * the events of those aggregates.
 */
export function insertEventsSql(json: string, onlyAggregatesIn?: string): string {
  return `INSERT INTO domain_events (type, version, aggregate_type, aggregate_id, aggregate_seq, occurred_at, payload)
     SELECT e.type, e.version, e.aggregate_type, e.aggregate_id,
       CASE WHEN e.new_aggregate THEN 0
         ELSE coalesce((SELECT max(d.aggregate_seq) FROM domain_events d
                        WHERE d.aggregate_type = e.aggregate_type AND d.aggregate_id = e.aggregate_id), 0) END
         + row_number() OVER (PARTITION BY e.aggregate_type, e.aggregate_id ORDER BY e.ord),
       e.occurred_at, e.payload
     FROM jsonb_to_recordset(${json}::jsonb) AS e(type text, version int, aggregate_type text, aggregate_id uuid,
       occurred_at timestamptz, payload jsonb, ord int, new_aggregate boolean)
     ${onlyAggregatesIn ? `WHERE e.aggregate_id IN (${onlyAggregatesIn})` : ''}`;
}

/** Inserts events (insertEventsSql) and wakes `channel` at commit (wakeAtCommit), in one statement. */
export async function insertEvents(tx: SqlQuery, eventsJson: string, channel: string): Promise<void> {
  const params = [eventsJson];
  const notify = wakeAtCommit(tx, channel, (value) => `$${params.push(value)}`);
  await tx.query(`WITH inserted AS (${insertEventsSql('$1')}) SELECT true AS notified ${notify ? `FROM ${notify}` : ''}`, params);
}

export function selectAggregateEvents(db: SqlQuery, aggregateType: string, aggregateId: string): Promise<EventRow[]> {
  return db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM domain_events WHERE aggregate_type = $1 AND aggregate_id = $2::uuid ORDER BY aggregate_seq`,
    [aggregateType, aggregateId],
  );
}

/** The first `limit` events not yet relayed, in position order. */
export function selectUnrelayed(sql: SqlQuery, limit: number): Promise<EventRow[]> {
  // d.position: a bare `position` would sort by the text column of the select list.
  return sql.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM domain_events d WHERE relayed_at IS NULL ORDER BY d.position LIMIT $1`, [limit]);
}

export async function countUnrelayed(sql: SqlQuery): Promise<number> {
  const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM domain_events WHERE relayed_at IS NULL`);
  return row?.n ?? 0;
}

export async function markRelayed(sql: SqlQuery, ids: string[]): Promise<void> {
  await sql.query(`UPDATE domain_events SET relayed_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
}

/** A session-level advisory lock: run on one session (SqlRunner.session) and unlock on the same one. */
export async function tryAdvisoryLock(session: SqlQuery, key: number): Promise<boolean> {
  const [lock] = await session.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock($1) AS locked`, [key]);
  return Boolean(lock?.locked);
}

export async function advisoryUnlock(session: SqlQuery, key: number): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock($1)`, [key]);
}
