import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
// Yoga's own error factory: its serializer then honours `extensions.http` and strips it from the body.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { operationCost, remoteAddressOf, type LimitKind } from './client.js';
import type { RateLimiter } from './limiter.js';

/**
 * Rate limits on every GraphQL operation: HTTP through Yoga, WebSocket through
 * `yoga.getEnveloped`. Runs once the context (and so the actor) exists and before anything
 * executes; a refused operation runs nothing.
 */
export function useRateLimit(limiter: RateLimiter, options: { bookingMutations: readonly string[] }): Plugin {
  const bookingMutations = new Set(options.bookingMutations);

  async function check(contextValue: unknown, document: DocumentNode, operationName: string | null | undefined): Promise<ExecutionResult | undefined> {
    const context = contextValue as Context & Parameters<typeof remoteAddressOf>[0];
    const operation = getOperationAST(document, operationName);
    if (!operation) return;
    const { kind, cost } = operationCost(operation, document, bookingMutations);
    const source = { actor: context.actor, headers: context.headers, remoteAddress: remoteAddressOf(context) };
    const refused = await limiter.check(source, kind, cost, context.log);
    return refused ? refusal(kind, refused.retryAfterSeconds) : undefined;
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
