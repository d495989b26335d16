import type { SqlQuery } from '../db/database.js';

/** Woken (at commit only) when events were recorded: webhook deliveries and the event-bus relay listen. */
export const EVENTS_CHANNEL = 'slotwise_events';

export type AggregateType = 'booking' | 'registration' | 'proposal' | 'waitlist';

export interface DomainEventInput {
  /** e.g. `booking.confirmed`: `<aggregate>.<what happened>` */
  type: string;
  aggregateType: AggregateType;
  aggregateId: string;
  occurredAt: Date;
  /** Ids, states and times; never contact data (see migrations/0005_domain_events.sql). */
  payload: Record<string, unknown>;
  /** The payload's schema version (default 1). */
  version?: number;
}

export interface DomainEvent extends Required<DomainEventInput> {
  id: string;
  position: string;
  aggregateSeq: number;
}

/**
 * Records events inside the caller's transaction: they commit or roll back with the change. Each
 * aggregate's events are numbered 1, 2, 3, ... in the order recorded; callers hold the aggregate's
 * row lock (every booking change does), so the numbering cannot race.
 */
export async function recordEvents(tx: SqlQuery, events: DomainEventInput[]): Promise<void> {
  if (!events.length) return;
  // One round trip: the insert, and the NOTIFY (delivered at commit) in the same statement.
  await tx.query(
    `WITH recorded AS (
       INSERT INTO domain_events (type, version, aggregate_type, aggregate_id, aggregate_seq, occurred_at, payload)
       SELECT e.type, e.version, e.aggregate_type, e.aggregate_id,
         coalesce((SELECT max(d.aggregate_seq) FROM domain_events d
                   WHERE d.aggregate_type = e.aggregate_type AND d.aggregate_id = e.aggregate_id), 0)
           + row_number() OVER (PARTITION BY e.aggregate_type, e.aggregate_id ORDER BY e.ord),
         e.occurred_at, e.payload
       FROM jsonb_to_recordset($1::jsonb) AS e(type text, version int, aggregate_type text, aggregate_id uuid,
         occurred_at timestamptz, payload jsonb, ord int))
     SELECT true AS notified FROM pg_notify($2, '')`,
    [
      JSON.stringify(
        events.map((e, ord) => ({
          ord,
          type: e.type,
          version: e.version ?? 1,
          aggregate_type: e.aggregateType,
          aggregate_id: e.aggregateId,
          occurred_at: e.occurredAt.toISOString(),
          payload: e.payload,
        })),
      ),
      EVENTS_CHANNEL,
    ],
  );
}

interface EventRow {
  id: string;
  position: string;
  type: string;
  version: number;
  aggregate_type: AggregateType;
  aggregate_id: string;
  aggregate_seq: number;
  occurred_at: Date;
  payload: Record<string, unknown>;
}

/** Events of one aggregate, in their order. */
export async function eventsOf(db: SqlQuery, aggregateType: AggregateType, aggregateId: string): Promise<DomainEvent[]> {
  const rows = await db.query<EventRow>(
    `SELECT id, position::text AS position, type, version, aggregate_type, aggregate_id, aggregate_seq, occurred_at, payload
     FROM domain_events WHERE aggregate_type = $1 AND aggregate_id = $2::uuid ORDER BY aggregate_seq`,
    [aggregateType, aggregateId],
  );
  return rows.map(toEvent);
}

export function toEvent(row: EventRow): DomainEvent {
  return {
    id: row.id,
    position: row.position,
    type: row.type,
    version: row.version,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    aggregateSeq: row.aggregate_seq,
    occurredAt: row.occurred_at,
    payload: row.payload,
  };
}

/**
 * What a consumer receives for an event (webhook body, event-bus message): the event's id (for
 * deduplication), type, payload version, when it happened, its aggregate and place in the
 * aggregate's order, and the payload as `data`.
 */
export function eventEnvelope(e: Pick<DomainEvent, 'id' | 'type' | 'version' | 'occurredAt' | 'aggregateType' | 'aggregateId' | 'aggregateSeq' | 'payload'>): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    version: e.version,
    timestamp: e.occurredAt.toISOString(),
    aggregate: { type: e.aggregateType, id: e.aggregateId, sequence: e.aggregateSeq },
    data: e.payload,
  });
}
