import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SqlQuery, SqlRunner } from '../db/database.js';
import { connectPublisher, type BusPublisher } from './bus-publishers.js';
import { eventEnvelope, toEvent, type DomainEvent } from './domain-events.js';
import { advisoryUnlock, countUnrelayed, markRelayed, selectUnrelayed, tryAdvisoryLock } from './events.store.js';

/** pg_try_advisory_lock key of the relay: one instance relays at a time. */
const RELAY_LOCK = 0x5e1a7;
export const RELAY_POLL_INTERVAL_MS = 1_000;

export interface EventBusRelayOptions {
  db: SqlRunner;
  log: Logger;
  /** A new broker connection (EVENT_BUS_URL). */
  connect: () => Promise<BusPublisher>;
  batchSize?: number;
  /** After a broker failure the relay waits, doubling from this up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface RelayRun {
  published: number;
  /** False when another instance holds the relay lock. */
  active: boolean;
  error?: string;
}

/**
 * Relays domain events to the broker after commit. At most one instance relays at a time (an
 * advisory lock per run); it publishes unmarked events in position order, one after another, each
 * confirmed by the broker before the next, and marks them relayed. Order per aggregate holds:
 * event N+1 of a booking is recorded only after N committed, so it has a higher position. A broker
 * that is down stops the run at the first unconfirmed event; nothing after it is marked, and the
 * next run (after a backoff) starts again there. At-least-once: what was confirmed but not yet
 * marked when the relay died or the connection broke is published again, with the same id.
 */
export class EventBusRelay {
  private publisher: BusPublisher | null = null;
  private failures = 0;
  private pausedUntil = 0;
  private readonly options: Required<EventBusRelayOptions>;

  constructor(options: EventBusRelayOptions) {
    this.options = { batchSize: 200, retryBaseMs: 1_000, retryMaxMs: 30_000, ...options };
  }

  async runOnce(): Promise<RelayRun> {
    if (Date.now() < this.pausedUntil) return { published: 0, active: true, error: 'waiting after a broker failure' };
    return this.options.db.session(async (session) => {
      if (!(await tryAdvisoryLock(session, RELAY_LOCK))) return { published: 0, active: false };
      try {
        return await this.relay(session);
      } finally {
        await advisoryUnlock(session, RELAY_LOCK);
      }
    });
  }

  /** Unrelayed events: the relay's backlog. */
  backlog(): Promise<number> {
    return countUnrelayed(this.options.db);
  }

  async close(): Promise<void> {
    await this.publisher?.close();
    this.publisher = null;
  }

  private async relay(sql: SqlQuery): Promise<RelayRun> {
    let published = 0;
    for (;;) {
      const events = (await selectUnrelayed(sql, this.options.batchSize)).map(toEvent);
      if (!events.length) break;
      const done: string[] = [];
      try {
        const publisher = await this.connected();
        for (const event of events) {
          await publisher.publish(event, eventEnvelope(event));
          done.push(event.id);
        }
      } catch (error) {
        await this.mark(sql, done);
        return { published: published + done.length, active: true, error: await this.failed(error, events[done.length]) };
      }
      await this.mark(sql, done);
      published += done.length;
      this.failures = 0;
      if (events.length < this.options.batchSize) break;
    }
    return { published, active: true };
  }

  private async connected(): Promise<BusPublisher> {
    if (this.publisher?.open) return this.publisher;
    await this.publisher?.close();
    this.publisher = null;
    this.publisher = await this.options.connect();
    if (this.failures) this.options.log.info({ broker: this.publisher.kind }, 'event bus reachable again; relaying');
    return this.publisher;
  }

  private async mark(sql: SqlQuery, ids: string[]): Promise<void> {
    if (ids.length) await markRelayed(sql, ids);
  }

  /** Drops the connection and waits before the next try (doubling); the unconfirmed event is first next time. */
  private async failed(error: unknown, event: DomainEvent | undefined): Promise<string> {
    await this.publisher?.close();
    this.publisher = null;
    this.failures++;
    const waitMs = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (this.failures - 1));
    this.pausedUntil = Date.now() + waitMs;
    const message = error instanceof Error ? error.message : String(error);
    this.options.log.warn(
      { err: message, eventId: event?.id, type: event?.type, retryInMs: waitMs, failures: this.failures },
      'event bus publish failed; will retry',
    );
    return message;
  }
}

/** The relay as configured (EVENT_BUS_URL, EVENT_BUS_TOPIC); null without EVENT_BUS_URL. */
export function eventBusRelayFromConfig(
  deps: { config: Config; db: { sql: SqlRunner }; log: Logger },
  overrides: Partial<EventBusRelayOptions> = {},
): EventBusRelay | null {
  const { EVENT_BUS_URL: url, EVENT_BUS_TOPIC: topic } = deps.config;
  if (!url) return null;
  return new EventBusRelay({
    db: deps.db.sql,
    log: deps.log.child({ component: 'event-bus' }),
    connect: () => connectPublisher({ url, topic, timeoutMs: 5_000 }),
    ...overrides,
  });
}
