import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What falls back to in-process work while Redis is away. */
export type RedisComponent = 'ratelimit' | 'exposure-cache' | 'pubsub' | 'response-cache';

/**
 * Fail open: while Redis is unreachable each component does its work in-process. Every fallback
 * counts in a metric; the log gets one line per component and outage, not one per request.
 */
export class RedisFallback {
  private readonly logged = new Set<RedisComponent>();

  constructor(
    private readonly client: Redis,
    private readonly log: Logger,
    private readonly onFallback: (component: RedisComponent) => void,
  ) {
    client.on('ready', () => this.recovered());
  }

  get up(): boolean {
    return this.client.status === 'ready';
  }

  /** primary() against Redis when it is connected; fallback() when it is not or the command fails. */
  async attempt<T>(component: RedisComponent, primary: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (!this.up) {
      this.fellBack(component);
      return fallback();
    }
    try {
      return await primary();
    } catch (err) {
      this.fellBack(component, err);
      return fallback();
    }
  }

  fellBack(component: RedisComponent, err?: unknown): void {
    this.onFallback(component);
    if (this.logged.has(component)) return;
    this.logged.add(component);
    const reason = err instanceof Error ? err.message : `redis ${this.client.status}`;
    this.log.warn({ component, reason }, 'redis unavailable; working in-process until it is back');
  }

  /** A new outage is logged again. */
  recovered(component?: RedisComponent): void {
    if (component) this.logged.delete(component);
    else this.logged.clear();
  }
}
