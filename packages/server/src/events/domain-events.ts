import type { SqlQuery } from '../db/database.js';
import { insertEvents, selectAggregateEvents, type EventRow } from './events.store.js';

/**
 * Woken (at commit only, wakeAtCommit) when events were recorded: webhook deliveries and the
 * event-bus relay listen. Not the live feed's channel (live/pg-pubsub.ts), so a slot change
 * published there does not wake them.
 */
export const DOMAIN_EVENTS_CHANNEL = 'slotwise_domain_events';

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
  /** The change created the aggregate (a new booking): its events start at 1, with no earlier ones to look up. */
  newAggregate?: boolean;
}

export interface DomainEvent extends Required<Omit<DomainEventInput, 'newAggregate'>> {
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
  if (events.length) await insertEvents(tx, eventsJson(events), DOMAIN_EVENTS_CHANNEL);
}

/** Events as insertEventsSql reads them (for a statement that writes them with other rows; its wake of DOMAIN_EVENTS_CHANNEL is the caller's). */
export function eventsJson(events: DomainEventInput[]): string {
  return JSON.stringify(
    events.map((e, ord) => ({
      ord,
      type: e.type,
      version: e.version ?? 1,
      aggregate_type: e.aggregateType,
      aggregate_id: e.aggregateId,
      occurred_at: e.occurredAt.toISOString(),
      payload: e.payload,
      new_aggregate: e.newAggregate ?? false,
    })),
  );
}

/** Events of one aggregate, in their order. */
export async function eventsOf(db: SqlQuery, aggregateType: AggregateType, aggregateId: string): Promise<DomainEvent[]> {
  return (await selectAggregateEvents(db, aggregateType, aggregateId)).map(toEvent);
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
export function eventEnvelope(
  e: Pick<DomainEvent, 'id' | 'type' | 'version' | 'occurredAt' | 'aggregateType' | 'aggregateId' | 'aggregateSeq' | 'payload'>,
): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    version: e.version,
    timestamp: e.occurredAt.toISOString(),
    aggregate: { type: e.aggregateType, id: e.aggregateId, sequence: e.aggregateSeq },
    data: e.payload,
  });
}
