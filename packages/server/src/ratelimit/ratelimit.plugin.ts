import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
// Yoga's own error factory: its serializer then honours `extensions.http` and strips it from the body.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { hasAnyRole, STAFF_ROLES } from '../shared/actor.js';
import { clientKey, operationCost, remoteAddressOf, type LimitKind } from './client.js';
import type { RateLimitStore } from './store.js';

/** A per-IP allowance for anonymous sessions: many people can share one address (offices, mobile NAT). */
export const IP_CEILING_FACTOR = 10;

export interface RateLimitOptions {
  /** Per client and minute; 0 turns the bucket off. */
  readsPerMinute: number;
  bookingsPerMinute: number;
  /** Mutation root fields that count against the booking bucket. */
  bookingMutations: readonly string[];
  /** How many proxies in front of the server append to X-Forwarded-For (0: use the socket address). */
  trustedProxies: number;
  store: RateLimitStore;
  onLimited?: (kind: LimitKind) => void;
}

/**
 * Seed 003's limits (reads 60/min, bookings 10/min per client) on every operation: HTTP through
 * Yoga, WebSocket through `yoga.getEnveloped`. Runs once the context (and so the actor) exists and
 * before anything executes; a refused operation runs nothing. Staff are not limited.
 */
export function useRateLimit(options: RateLimitOptions): Plugin {
  const bookingMutations = new Set(options.bookingMutations);
  const limits: Record<LimitKind, number> = { read: options.readsPerMinute, booking: options.bookingsPerMinute };

  async function check(contextValue: unknown, document: DocumentNode, operationName: string | null | undefined): Promise<ExecutionResult | undefined> {
    const context = contextValue as Context & Parameters<typeof remoteAddressOf>[0];
    const operation = getOperationAST(document, operationName);
    if (!operation || hasAnyRole(context.actor, STAFF_ROLES)) return;
    const { kind, cost } = operationCost(operation, document, bookingMutations);
    const limit = limits[kind];
    if (limit <= 0) return;

    const client = clientKey({ actor: context.actor, headers: context.headers, remoteAddress: remoteAddressOf(context) }, options.trustedProxies);
    try {
      const hits = [options.store.hit(`${kind}:${client.key}`, cost).then((w) => ({ ...w, limit }))];
      if (client.ipKey) hits.push(options.store.hit(`${kind}:${client.ipKey}`, cost).then((w) => ({ ...w, limit: limit * IP_CEILING_FACTOR })));
      const over = (await Promise.all(hits)).filter((w) => w.count > w.limit);
      if (!over.length) return;
      options.onLimited?.(kind);
      return refusal(kind, Math.max(...over.map((w) => Math.ceil(w.resetInMs / 1000)), 1));
    } catch (err) {
      // An unreachable Redis must not take the API down with it: the request goes through, loudly.
      context.log.warn({ err }, 'rate limit store unavailable; request not limited');
      return;
    }
  }

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const result = await check(args.contextValue, args.document, args.operationName);
      if (result) setResultAndStopExecution(result);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const result = await check(args.contextValue, args.document, args.operationName);
      if (result) setResultAndStopExecution(result);
    },
  };
}

function refusal(kind: LimitKind, retryAfterSeconds: number): ExecutionResult {
  const what = kind === 'booking' ? 'booking requests' : 'requests';
  return {
    errors: [
      createGraphQLError(`Too many ${what}; retry in ${retryAfterSeconds} s`, {
        extensions: {
          code: 'RATE_LIMITED',
          // In the body too: WebSocket clients see no HTTP headers.
          retryAfterSeconds,
          http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } },
        },
      }),
    ],
  };
}
