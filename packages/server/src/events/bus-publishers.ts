import type { NatsConnection } from 'nats';
import type { DomainEvent } from './domain-events.js';

/** One broker connection of the relay; `publish` resolves once the broker has stored the message. */
export interface BusPublisher {
  readonly kind: 'nats' | 'amqp';
  /** False once the connection is gone: the relay makes a new one. */
  readonly open: boolean;
  publish(event: DomainEvent, body: string): Promise<void>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  url: string;
  /** EVENT_BUS_TOPIC */
  topic: string;
  /** Connecting and each confirmation. */
  timeoutMs: number;
}

/** The JetStream stream that keeps `<topic>.>`: the topic in capitals, dots as underscores. */
export const streamName = (topic: string) => topic.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
/** How long JetStream drops a repeated Nats-Msg-Id (the relay republishes only after a crash or an outage). */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

export function connectPublisher(options: PublisherOptions): Promise<BusPublisher> {
  return options.url.startsWith('nats://') ? connectNats(options) : connectAmqp(options);
}

/**
 * NATS JetStream: subject `<topic>.<event type>`, the event id as Nats-Msg-Id (JetStream drops a
 * repeat within the stream's duplicate window), acknowledged by the stream before it counts.
 */
async function connectNats({ url, topic, timeoutMs }: PublisherOptions): Promise<BusPublisher> {
  // Loaded only when EVENT_BUS_URL names NATS: a server without a bus never pays for the client.
  const { connect: natsConnect, headers: natsHeaders, nanos, StorageType } = await import('nats');
  const { hostname, port, username, password } = new URL(url);
  const nc: NatsConnection = await natsConnect({
    servers: `${hostname}:${port || 4222}`,
    ...(username ? { user: decodeURIComponent(username), pass: decodeURIComponent(password) } : {}),
    timeout: timeoutMs,
    // The relay reconnects itself (and re-reads what is unmarked): no client-side buffering.
    reconnect: false,
    name: 'slotwise-event-relay',
  });
  let open = true;
  void nc.closed().then(() => (open = false));
  try {
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
    const name = streamName(topic);
    await jsm.streams.info(name).catch(async () => {
      await jsm.streams.add({ name, subjects: [`${topic}.>`], storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
    });
  } catch (error) {
    await nc.close().catch(() => {});
    throw error;
  }
  const js = nc.jetstream({ timeout: timeoutMs });
  return {
    kind: 'nats',
    get open() {
      return open && !nc.isClosed();
    },
    async publish(event, body) {
      const h = natsHeaders();
      h.set('Slotwise-Event-Type', event.type);
      h.set('Slotwise-Aggregate', `${event.aggregateType}:${event.aggregateId}:${event.aggregateSeq}`);
      await js.publish(`${topic}.${event.type}`, Buffer.from(body), { msgID: event.id, headers: h, timeout: timeoutMs });
    },
    async close() {
      open = false;
      await nc.close().catch(() => {});
    },
  };
}

/**
 * RabbitMQ: a durable topic exchange named `<topic>`, routing key = event type, persistent
 * messages with the event id as `messageId`, on a confirm channel: a publish counts once the
 * broker confirmed it.
 */
async function connectAmqp({ url, topic, timeoutMs }: PublisherOptions): Promise<BusPublisher> {
  const { default: amqp } = await import('amqplib');
  const connection = await amqp.connect(url, { timeout: timeoutMs, clientProperties: { connection_name: 'slotwise-event-relay' } });
  let open = true;
  const closed = () => (open = false);
  connection.on('close', closed);
  // Without a listener an 'error' event would throw; the relay sees the failed publish and reconnects.
  connection.on('error', closed);
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', closed);
    channel.on('close', closed);
    await channel.assertExchange(topic, 'topic', { durable: true });
    return {
      kind: 'amqp',
      get open() {
        return open;
      },
      publish(event, body) {
        return withTimeout(
          new Promise<void>((resolve, reject) => {
            channel.publish(
              topic,
              event.type,
              Buffer.from(body),
              {
                persistent: true,
                messageId: event.id,
                type: event.type,
                contentType: 'application/json',
                timestamp: Math.floor(event.occurredAt.getTime() / 1000),
                headers: { 'slotwise-aggregate': `${event.aggregateType}:${event.aggregateId}:${event.aggregateSeq}` },
              },
              (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
            );
          }),
          timeoutMs,
          'no publisher confirm',
        );
      },
      async close() {
        open = false;
        await connection.close().catch(() => {});
      },
    };
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}
