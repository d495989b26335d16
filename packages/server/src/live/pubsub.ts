import { createPubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import { SLOT_CHANGES_TOPIC } from './slot-events.js';

/** Topics and payloads: ids and versions only; subscribers re-read what they show. */
export type Topics = Record<string, [unknown]>;

/** Delivered locally on SLOT_CHANGES_TOPIC when messages may have been missed. */
export interface ResyncMessage {
  resync: true;
}

export interface PubSubHandle {
  pubsub: ReturnType<typeof createPubSub<Topics>>;
  close(): Promise<void>;
}

type RedisTarget = ReturnType<typeof createRedisEventTarget<CustomEvent>>;

/** In-process by default; with Redis, events reach subscribers on every instance. */
export function createPubSubHandle(redisUrl?: string): PubSubHandle {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // Named per process, so an operator (or a test) can find this instance's subscriber connection.
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3, connectionName: `slotwise-sub-${process.pid}` });
  const redisTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  const local = new EventTarget();
  const eventTarget: RedisTarget = {
    addEventListener: (type, listener) => {
      redisTarget.addEventListener(type, listener);
      local.addEventListener(type, listener as EventListener);
    },
    removeEventListener: (type, listener) => {
      redisTarget.removeEventListener(type, listener);
      local.removeEventListener(type, listener as EventListener);
    },
    dispatchEvent: (event) => redisTarget.dispatchEvent(event),
  };
  // Whatever was published while this instance was cut off from Redis is lost to it. Once it is
  // subscribed again, its live subscribers are told to start over from a fresh snapshot.
  let connectedBefore = false;
  subscribeClient.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    void subscribeClient.subscribe(SLOT_CHANGES_TOPIC).then(
      () => local.dispatchEvent(new CustomEvent(SLOT_CHANGES_TOPIC, { detail: { resync: true } satisfies ResyncMessage })),
      () => {},
    );
  });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
