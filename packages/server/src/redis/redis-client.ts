import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisClientOptions {
  /** Shown in CLIENT LIST, so an operator (or a test) can tell this process's connections apart. */
  name: string;
  commandTimeoutMs: number;
  log: Logger;
  /**
   * A subscriber queues its (few, bounded) SUBSCRIBE commands until it is connected, so listening
   * can start while Redis is down; every other client fails fast instead.
   */
  subscriber?: boolean;
  /** REDIS_KEY_PREFIX: ioredis puts it before every key (not before pub/sub channels: see pubsub.ts). */
  keyPrefix?: string;
}

/** Reconnect forever, waiting 100 ms, 200 ms, ... up to 2 s between tries, with jitter so a fleet spreads out. */
export function reconnectDelayMs(attempt: number): number {
  const cap = Math.min(2_000, 100 * 2 ** Math.min(attempt - 1, 5));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/**
 * An ioredis client for Redis as an accelerator, not a dependency: it never makes a request wait for
 * Redis to come back (no offline queue, a short command timeout, no retries of a sent command),
 * reconnects by itself, and reports errors to the log instead of throwing them at the process.
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: options.commandTimeoutMs };
  const queued: RedisOptions = { enableOfflineQueue: true, maxRetriesPerRequest: null };
  const client = new Redis(url, {
    ...(options.subscriber ? queued : failFast),
    connectionName: options.name,
    keyPrefix: options.keyPrefix,
    connectTimeout: Math.max(options.commandTimeoutMs, 1_000),
    retryStrategy: reconnectDelayMs,
  });
  // One line per state change, not one per failed reconnect attempt.
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.log.warn({ redis: options.name, reason: err.message, code: (err as { code?: string }).code }, 'redis connection failed; retrying');
  });
  client.on('close', () => {
    if (!down) options.log.warn({ redis: options.name }, 'redis connection closed; retrying');
    down = true;
  });
  client.on('ready', () => {
    if (down) options.log.info({ redis: options.name }, 'redis connection back');
    down = false;
  });
  return client;
}

/**
 * Resolves once the client is connected, or after `ms` whatever its state: at start the server
 * gives Redis a moment, then serves in degraded mode rather than waiting for it.
 */
export async function readyOrTimeout(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  let onReady!: () => void;
  const ready = new Promise<boolean>((resolve) => client.once('ready', (onReady = () => resolve(true))));
  let timer!: NodeJS.Timeout;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
    client.off('ready', onReady);
  }
}
