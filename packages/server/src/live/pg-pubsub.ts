import { createPubSub } from 'graphql-yoga';
import pg from 'pg';
import { listen, notify } from '../db/listen.js';
import type { Logger } from 'pino';
import type { PubSubHandle, Topics } from './pubsub.js';
import { SLOT_CHANGES_TOPIC, type ResyncMessage } from '../events/slot-events.js';

/** One channel for every topic; the payload names its topic. */
export const EVENTS_CHANNEL = 'slotwise_events';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; longer batches go as several. */
export const MAX_PAYLOAD_BYTES = 7_900;
const RECONNECT_MS = 1_000;

interface Envelope {
  t: string;
  d: unknown;
}

/**
 * Splits one published message into NOTIFY payloads under the size limit. A batch of slot changes
 * splits between changes, in order (each change carries its slot's version, so a subscriber needs
 * no more than that); anything else must fit as it is.
 */
export function encodePayloads(type: string, detail: unknown): string[] {
  const whole = JSON.stringify({ t: type, d: detail ?? null } satisfies Envelope);
  if (Buffer.byteLength(whole) <= MAX_PAYLOAD_BYTES) return [whole];
  const changes = (detail as { changes?: unknown[] } | null)?.changes;
  if (!Array.isArray(changes) || changes.length < 2) throw new Error(`a ${type} message of ${Buffer.byteLength(whole)} bytes is too long for NOTIFY`);
  const half = Math.ceil(changes.length / 2);
  return [
    ...encodePayloads(type, { ...detail!, changes: changes.slice(0, half) }),
    ...encodePayloads(type, { ...detail!, changes: changes.slice(half) }),
  ];
}

export interface PgPubSubOptions {
  url: string;
  log: Logger;
}

/**
 * Pub/sub through PostgreSQL LISTEN/NOTIFY, for workers and instances that share a database but no
 * Redis. One dedicated connection per process both listens and publishes: a connection runs its
 * statements in order, so this process's messages are NOTIFYed, and delivered to every listener, in
 * the order it published them (after each transaction's commit, as with Redis). Subscribers drop
 * a state older than one already shown by the slot's version, so messages of different processes
 * never take a slot backwards.
 *
 * The publisher's own subscribers get its messages back through PostgreSQL like every other
 * process. While the connection is down, they get them directly (other processes miss them), and
 * once it is back, every local subscriber is told to start over from a fresh snapshot.
 */
export function createPgPubSubHandle(options: PgPubSubOptions): PubSubHandle & { connected(): boolean; ready: Promise<void> } {
  const { log } = options;
  const local = new EventTarget();
  const deliverLocally = (type: string, detail: unknown) => local.dispatchEvent(new CustomEvent(type, { detail }));
  let client: pg.Client | undefined;
  let listening = false;
  let everListened = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let warned = false;
  /** The NOTIFYs of this process, chained so they run in publish order. */
  let sending: Promise<void> = Promise.resolve();
  /** Messages published since the last NOTIFY statement was sent. */
  let waiting: { payloads: string[]; type: string; detail: unknown }[] = [];
  const flush = async (current: pg.Client) => {
    const batch = waiting;
    waiting = [];
    try {
      await notify(
        current,
        EVENTS_CHANNEL,
        batch.flatMap((m) => m.payloads),
      );
    } catch {
      for (const m of batch) deliverLocally(m.type, m.detail);
    }
  };

  const drop = (failed: pg.Client, err?: unknown) => {
    if (client !== failed) return;
    client = undefined;
    listening = false;
    failed.end().catch(() => {});
    if (closed) return;
    if (!warned)
      log.warn(
        { reason: err instanceof Error ? err.message : 'connection ended' },
        'live events connection to PostgreSQL lost; this process delivers only its own until it is back',
      );
    warned = true;
    retry = setTimeout(connect, RECONNECT_MS).unref();
  };

  async function connect() {
    if (closed) return;
    const next = new pg.Client({ connectionString: options.url, application_name: 'slotwise-events' });
    client = next;
    next.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
      try {
        const { t, d } = JSON.parse(message.payload) as Envelope;
        deliverLocally(t, d);
      } catch (err) {
        log.warn({ err }, 'unreadable live event payload ignored');
      }
    });
    next.on('error', (err) => drop(next, err));
    next.on('end', () => drop(next));
    try {
      await next.connect();
      await listen(next, EVENTS_CHANNEL);
      if (client !== next) return;
      listening = true;
      if (warned) log.info('live events connection to PostgreSQL back');
      warned = false;
      // Whatever others published while this process was not listening is lost to it.
      if (everListened) deliverLocally(SLOT_CHANGES_TOPIC, { resync: true } satisfies ResyncMessage);
      everListened = true;
    } catch (err) {
      drop(next, err);
    }
  }

  const ready = connect();
  const eventTarget = {
    addEventListener: (type: string, listener: EventListenerOrEventListenerObject) => local.addEventListener(type, listener),
    removeEventListener: (type: string, listener: EventListenerOrEventListenerObject) => local.removeEventListener(type, listener),
    dispatchEvent: (event: Event) => {
      const detail = (event as CustomEvent).detail;
      const current = client;
      if (!current || !listening) {
        deliverLocally(event.type, detail);
        return true;
      }
      let payloads: string[];
      try {
        payloads = encodePayloads(event.type, detail);
      } catch (err) {
        log.error({ err }, 'live event too long for NOTIFY; delivered on this process only');
        deliverLocally(event.type, detail);
        return true;
      }
      // In call order on the one connection; what is published while a NOTIFY is on its way goes
      // in the next one, together. A failure means the connection is going down (and with it the
      // LISTEN): this process's subscribers still get the message, directly.
      if (!waiting.length) sending = sending.then(() => flush(current));
      waiting.push({ payloads, type: event.type, detail });
      return true;
    },
  };
  return {
    pubsub: createPubSub<Topics>({ eventTarget: eventTarget as never }),
    clients: [],
    connected: () => listening,
    /** Settles once the first attempt to listen has succeeded or failed. */
    ready,
    async close() {
      closed = true;
      clearTimeout(retry);
      await ready;
      await sending;
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
