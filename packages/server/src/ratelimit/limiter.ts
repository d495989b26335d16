import type { Logger } from 'pino';
import { hasAnyRole, STAFF_ROLES } from '../shared/actor.js';
import { clientKey, type ClientSource, type LimitKind } from './client.js';
import type { RateLimitStore } from './store.js';

/** A per-IP allowance for anonymous sessions: many people can share one address (offices, mobile NAT). */
export const IP_CEILING_FACTOR = 10;

export interface RateLimiterOptions {
  /** Per client and minute; 0 turns the bucket off. */
  readsPerMinute: number;
  bookingsPerMinute: number;
  /** How many proxies in front of the server append to X-Forwarded-For (0: use the socket address). */
  trustedProxies: number;
  store: RateLimitStore;
  onLimited?: (kind: LimitKind) => void;
}

/**
 * Seed 003's per-client limits, for any entry point: the GraphQL plugin uses it, and so can a
 * plain HTTP route (`app.rateLimiter.check(...)`). Staff are not limited.
 */
export class RateLimiter {
  private readonly limits: Record<LimitKind, number>;

  constructor(private readonly options: RateLimiterOptions) {
    this.limits = { read: options.readsPerMinute, booking: options.bookingsPerMinute };
  }

  /** Counts `cost` hits; null when allowed, else how long the client must wait. */
  async check(source: ClientSource, kind: LimitKind, cost: number, log: Logger): Promise<{ retryAfterSeconds: number } | null> {
    const limit = this.limits[kind];
    if (limit <= 0 || hasAnyRole(source.actor, STAFF_ROLES)) return null;
    const client = clientKey(source, this.options.trustedProxies);
    const { store } = this.options;
    try {
      const hits = [store.hit(`${kind}:${client.key}`, cost).then((w) => ({ ...w, limit }))];
      if (client.ipKey) hits.push(store.hit(`${kind}:${client.ipKey}`, cost).then((w) => ({ ...w, limit: limit * IP_CEILING_FACTOR })));
      const over = (await Promise.all(hits)).filter((w) => w.count > w.limit);
      if (!over.length) return null;
      this.options.onLimited?.(kind);
      return { retryAfterSeconds: Math.max(...over.map((w) => Math.ceil(w.resetInMs / 1000)), 1) };
    } catch (err) {
      // An unreachable Redis must not take the API down with it: the request goes through, loudly.
      log.warn({ err }, 'rate limit store unavailable; request not limited');
      return null;
    }
  }
}
