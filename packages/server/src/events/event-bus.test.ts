import amqp from 'amqplib';
import { connect as natsConnect, type JetStreamManager, type NatsConnection } from 'nats';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/kit/app.js';
import { runRepeatedly, waitFor } from '../../test/kit/wait.js';
import { customer, gid, appWithResource, type Fixtures } from '../../test/kit/fixtures.js';
import { CANCEL, CONFIRM, HOLD, call } from '../../test/kit/documents.js';
import { CuttableProxy, OwnNats, TEST_AMQP_URL, TEST_NATS_URL } from '../../test/kit/brokers.js';
import { connectPublisher, streamName } from './bus-publishers.js';
import { startServer } from '../server.js';
import { EventBusRelay } from './event-bus.js';

interface Received {
  id: string;
  type: string;
  aggregateId: string;
  sequence: number;
  body: string;
}

let t: TestApp;
let f: Fixtures;
let locationId: string;
let resourceId: string;
const log = pino({ level: 'silent' });
const unique = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  ({ t, f, locationId, resourceId } = await appWithResource());
});
afterAll(() => t?.close());

function relayTo(url: string, topic: string) {
  return new EventBusRelay({
    db: t.app.db.sql,
    log,
    connect: () => connectPublisher({ url, topic, timeoutMs: 3_000 }),
    retryBaseMs: 20,
    retryMaxMs: 200,
  });
}

/** `count` bookings, each held, confirmed and cancelled, side by side: 3 events each. */
async function bookingLives(count: number, label: string): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const held = await call(t, HOLD, { slotId: gid('Slot', await f.slot(locationId, resourceId)), customer: customer(`${label}${i}`) });
      await call(t, CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken });
      await call(t, CANCEL, { bookingId: held.booking.id, manageToken: held.manageToken });
    }),
  );
}

async function relayAll(relay: EventBusRelay) {
  await waitFor(
    async () => {
      await relay.runOnce();
      return (await relay.backlog()) === 0;
    },
    'every event relayed',
    60_000,
  );
}

const allEvents = () =>
  t.app.db.sql.query<{ id: string; aggregate_id: string; aggregate_seq: number }>(
    `SELECT id, aggregate_id, aggregate_seq FROM domain_events ORDER BY position`,
  );

/** Every event recorded so far arrived; each booking's in aggregate order; copies of one id are identical. */
async function expectComplete(received: Received[]) {
  const events = await allEvents();
  expect(new Set(received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
  const byId = new Map<string, string>();
  for (const r of received) {
    if (byId.has(r.id)) expect(r.body).toBe(byId.get(r.id));
    byId.set(r.id, r.body);
  }
  const firstSeen = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const r of received) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    firstSeen.set(r.aggregateId, [...(firstSeen.get(r.aggregateId) ?? []), r.sequence]);
  }
  for (const [aggregate, sequences] of firstSeen) expect(sequences, aggregate).toEqual(sequences.map((_, i) => i + 1));
}

/** Everything in a JetStream stream, by sequence. */
async function streamContents(jsm: JetStreamManager, stream: string): Promise<Received[]> {
  const info = await jsm.streams.info(stream);
  const out: Received[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const body = new TextDecoder().decode(m.data);
    const parsed = JSON.parse(body) as { id: string; type: string; aggregate: { id: string; sequence: number } };
    expect(m.header.get('Nats-Msg-Id')).toBe(parsed.id);
    out.push({ id: parsed.id, type: parsed.type, aggregateId: parsed.aggregate.id, sequence: parsed.aggregate.sequence, body });
  }
  return out;
}

describe('event bus: NATS JetStream', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const topic = `slotwise_test.${unique()}`;

  beforeAll(async () => {
    nc = await natsConnect({ servers: TEST_NATS_URL.replace('nats://', '') });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    await jsm?.streams.delete(streamName(topic)).catch(() => {});
    await nc?.close();
  });

  it('publishes every event in order per booking; a republished event is dropped by its Nats-Msg-Id', async () => {
    const relay = relayTo(TEST_NATS_URL, topic);
    try {
      await bookingLives(6, 'nats');
      await relayAll(relay);
      const received = await streamContents(jsm, streamName(topic));
      await expectComplete(received);
      expect(received).toHaveLength((await allEvents()).length);
      expect(received.filter((r) => r.type === 'booking.confirmed')).toHaveLength(6);

      // The marks of some events are lost (a crash after the broker's ack): published again, stored once.
      await t.app.db.sql.query(
        `UPDATE domain_events SET relayed_at = NULL WHERE id IN (SELECT id FROM domain_events ORDER BY position DESC LIMIT 5)`,
      );
      await relayAll(relay);
      expect(await streamContents(jsm, streamName(topic))).toEqual(received);
    } finally {
      await relay.close();
    }
  });

  it('a nats-server killed and restarted: the relay resumes, no event lost, order per booking kept', async () => {
    const nats = new OwnNats();
    await nats.start();
    const own = `slotwise_test.${unique()}`;
    const relay = relayTo(nats.url, own);
    try {
      await t.app.db.sql.query(`UPDATE domain_events SET relayed_at = now()`);
      await bookingLives(3, 'before');
      await relayAll(relay);

      await nats.stop();
      await bookingLives(3, 'during');
      const failed = await relay.runOnce();
      expect(failed.error).toBeTruthy();
      expect(await relay.backlog()).toBeGreaterThanOrEqual(9);

      await nats.start();
      await relayAll(relay);
      const conn = await natsConnect({ servers: nats.url.replace('nats://', '') });
      try {
        const received = await streamContents(await conn.jetstreamManager(), streamName(own));
        const events = await t.app.db.sql.query<{ id: string }>(
          `SELECT id FROM domain_events WHERE position > (SELECT max(position) FROM domain_events) - 18`,
        );
        expect(new Set(received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
        const orders = new Map<string, number[]>();
        for (const r of received) orders.set(r.aggregateId, [...(orders.get(r.aggregateId) ?? []), r.sequence]);
        for (const sequences of orders.values()) expect(sequences).toEqual([1, 2, 3]);
      } finally {
        await conn.close();
      }
    } finally {
      await relay.close();
      await nats.close();
    }
  });
});

describe('event bus: RabbitMQ', () => {
  it('two relays, an outage (connection cut) and lost marks: every event arrives in order per booking, duplicates with the same id', async () => {
    const exchange = `slotwise_test.${unique()}`;
    const consumer = await amqp.connect(TEST_AMQP_URL);
    const channel = await consumer.createChannel();
    const received: Received[] = [];
    const upstream = new URL(TEST_AMQP_URL);
    const proxy = new CuttableProxy({ host: upstream.hostname, port: Number(upstream.port || 5672) });
    await proxy.start();
    const viaProxy = `amqp://${upstream.username}:${upstream.password}@127.0.0.1:${proxy.port}`;
    const relays = [relayTo(viaProxy, exchange), relayTo(viaProxy, exchange)];
    try {
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      await channel.consume(
        queue,
        (m) => {
          if (!m) return;
          const body = m.content.toString('utf8');
          const parsed = JSON.parse(body) as { id: string; type: string; aggregate: { id: string; sequence: number } };
          expect(m.properties.messageId).toBe(parsed.id);
          expect(m.fields.routingKey).toBe(parsed.type);
          received.push({
            id: m.properties.messageId as string,
            type: parsed.type,
            aggregateId: parsed.aggregate.id,
            sequence: parsed.aggregate.sequence,
            body,
          });
        },
        { noAck: true },
      );
      await t.app.db.sql.query(`UPDATE domain_events SET relayed_at = NULL`);

      // Two instances relaying at once while bookings change: the lock lets one publish at a time, so no copies.
      const loops = relays.map((relay) => runRepeatedly(() => relay.runOnce(), 5));
      await bookingLives(5, 'rabbit');
      await waitFor(async () => (await relays[0]!.backlog()) === 0, 'the first events relayed', 60_000);
      await Promise.all(loops.map((loop) => loop.stop()));
      const total = (await allEvents()).length;
      await waitFor(() => received.length >= total, 'the first events consumed', 30_000);
      expect(new Set(received.map((r) => r.id)).size).toBe(received.length);

      // The broker unreachable: nothing is marked, the relay backs off, then resumes where it stopped.
      await proxy.cut();
      await bookingLives(4, 'outage');
      expect((await relays[0]!.runOnce()).error).toBeTruthy();
      expect(await relays[0]!.backlog()).toBeGreaterThanOrEqual(12);
      await proxy.restore();
      await relayAll(relays[0]!);

      // Marks lost after the broker confirmed: those events come again, with the same messageId.
      await t.app.db.sql.query(
        `UPDATE domain_events SET relayed_at = NULL WHERE id IN (SELECT id FROM domain_events ORDER BY position DESC LIMIT 4)`,
      );
      await relayAll(relays[1]!);
      const all = (await allEvents()).length;
      await waitFor(() => received.length >= all + 4, 'every event and the repeats consumed', 30_000);
      await expectComplete(received);
      expect(received.length - new Set(received.map((r) => r.id)).size).toBe(4);
    } finally {
      for (const relay of relays) await relay.close();
      await proxy.cut();
      await channel.deleteExchange(exchange).catch(() => {});
      await consumer.close().catch(() => {});
    }
  });
});

describe('event bus in a running server', () => {
  it('relays a confirmed booking to NATS by the server’s own job, woken by the commit', async () => {
    const topic = `slotwise_test.${unique()}`;
    const {
      t: app,
      f: fx,
      locationId: location,
      resourceId: person,
    } = await appWithResource({ config: { EVENT_BUS_URL: TEST_NATS_URL, EVENT_BUS_TOPIC: topic } });
    const server = await startServer(app.app, { port: 0, host: '127.0.0.1' });
    const nc = await natsConnect({ servers: TEST_NATS_URL.replace('nats://', '') });
    const jsm = await nc.jetstreamManager();
    try {
      const held = await call(app, HOLD, { slotId: gid('Slot', await fx.slot(location, person)), customer: customer('srv') });
      await call(app, CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken });
      const received = await waitFor(
        async () => {
          const messages = await streamContents(jsm, streamName(topic)).catch((): Received[] => []);
          return messages.length === 2 ? messages : null;
        },
        'both events in the stream',
        30_000,
      );
      expect(received.map((r) => [r.type, r.sequence])).toEqual([
        ['booking.held', 1],
        ['booking.confirmed', 2],
      ]);
    } finally {
      await jsm.streams.delete(streamName(topic)).catch(() => {});
      await nc.close();
      await server.stop();
      await app.close();
    }
  });
});
