import { createPubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { SLOT_CHANGES_TOPIC, type ResyncMessage, type SlotChangesMessage } from '../events/slot-events.js';
import { createRedisClient } from '../redis/redis-client.js';
import type { RedisFallback } from '../redis/redis-fallback.js';

/** Topics and payloads: ids and versions only; subscribers re-read what they show. */
export type Topics = { [SLOT_CHANGES_TOPIC]: [SlotChangesMessage] };

export interface PubSubHandle {
  pubsub: ReturnType<typeof createPubSub<Topics>>;
  /** Its Redis connections, when it has any (the server waits briefly for them at start). */
  clients: Redis[];
  close(): Promise<void>;
}

type RedisTarget = ReturnType<typeof createRedisEventTarget<CustomEvent>>;

export interface RedisPubSubOptions {
  url: string;
  commandTimeoutMs: number;
  /** REDIS_KEY_PREFIX: Redis channels are not keys, so ioredis's keyPrefix leaves them alone. */
  channelPrefix: string;
  log: Logger;
  fallback: RedisFallback;
}

/** In-process by default; with Redis, events reach subscribers on every instance. */
export function createPubSubHandle(redis?: RedisPubSubOptions): PubSubHandle {
  if (!redis) return { pubsub: createPubSub<Topics>(), clients: [], close: async () => {} };
  const { log, fallback, channelPrefix } = redis;
  const publishClient = createRedisClient(redis.url, { name: `slotwise-pub-${process.pid}`, commandTimeoutMs: redis.commandTimeoutMs, log });
  // Named per process, so an operator (or a test) can find this instance's subscriber connection.
  const subscribeClient = createRedisClient(redis.url, {
    name: `slotwise-sub-${process.pid}`,
    commandTimeoutMs: redis.commandTimeoutMs,
    log,
    subscriber: true,
  });
  const redisTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient: quietSubscriber(subscribeClient) });
  const local = new EventTarget();
  const deliverLocally = (event: CustomEvent) => local.dispatchEvent(new CustomEvent(event.type, { detail: event.detail }));
  const eventTarget: RedisTarget = {
    addEventListener: (type, listener) => {
      redisTarget.addEventListener(channelPrefix + type, listener);
      local.addEventListener(type, listener as EventListener);
    },
    removeEventListener: (type, listener) => {
      redisTarget.removeEventListener(channelPrefix + type, listener);
      local.removeEventListener(type, listener as EventListener);
    },
    // Through Redis when this instance is subscribed there (the event comes back to it like to every
    // other instance). Otherwise, or when publishing fails, straight to this instance's own
    // subscribers: Redis being away must not silence the instance that made the change.
    dispatchEvent: (event) => {
      const subscribed = subscribeClient.status === 'ready';
      if (!subscribed) {
        fallback.fellBack('pubsub');
        deliverLocally(event);
      }
      if (publishClient.status !== 'ready') return true;
      publishClient.publish(channelPrefix + event.type, JSON.stringify(event.detail ?? null)).catch((err: unknown) => {
        fallback.fellBack('pubsub', err);
        if (subscribed) deliverLocally(event);
      });
      return true;
    },
  };
  // Whatever other instances published while this one was cut off from Redis is lost to it. Once it
  // is subscribed again, its live subscribers are told to start over from a fresh snapshot.
  let cutOff = false;
  subscribeClient.on('close', () => (cutOff = true));
  subscribeClient.on('error', () => (cutOff = true));
  subscribeClient.on('ready', () => {
    fallback.recovered('pubsub');
    if (!cutOff) return;
    cutOff = false;
    void subscribeClient.subscribe(channelPrefix + SLOT_CHANGES_TOPIC).then(
      () => local.dispatchEvent(new CustomEvent(SLOT_CHANGES_TOPIC, { detail: { resync: true } satisfies ResyncMessage })),
      () => {},
    );
  });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    clients: [publishClient, subscribeClient],
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/**
 * redis-event-target fires SUBSCRIBE / UNSUBSCRIBE without handling their promises; queued ones are
 * rejected when the client is closed. Those rejections mean nothing (ioredis resubscribes by itself
 * after a reconnect), so they are caught here rather than reaching the process.
 */
function quietSubscriber(client: Redis): Redis {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'subscribe' || property === 'unsubscribe') {
        return (...channels: string[]) => (target[property] as (...c: string[]) => Promise<unknown>)(...channels).catch(() => undefined);
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
