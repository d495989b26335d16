import type { IncomingMessage } from 'node:http';
import { getOperationAST, type ExecutionArgs, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
// Yoga's own error factory: its serializer then honours `extensions.http` and strips it from the body.
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Context } from '../context.js';
import { operationCharge, remoteAddressOf, type ClientSource, type LimitKind } from './client.js';
import { coerceVariables, operationCost, type OperationCost } from './cost.js';
import type { RateLimiter } from './limiter.js';

/** What an operation refused before it ran costs: parse and validation errors, a failed sign-in, a refused estimate. */
export const REFUSED_OPERATION_COST = 10;

export interface OperationLimits {
  bookingMutations: readonly string[];
  /** Largest static cost one operation (or one subscription) may have. */
  maxCost: number;
  /** Most availability-like root fields one operation may hold. */
  maxAvailabilityFields: number;
  log: Logger;
}

/**
 * Cost limits and rate limits on every GraphQL operation: HTTP and SSE through Yoga, WebSocket
 * through `yoga.getEnveloped`. Runs once the context (and so the actor) exists and before anything
 * executes: an operation over the limits runs nothing and touches no database. Operations refused
 * before they reach execution (parse, validation, sign-in) are charged too, once their answer is known.
 */
export function useRateLimit(limiter: RateLimiter, options: OperationLimits): Plugin {
  const bookingMutations = new Set(options.bookingMutations);
  // Requests that reached execution were charged there; any other answer was a refusal.
  const charged = new WeakSet<Request>();
  // A query or mutation weighs what its text says when no variable can change its weight (it has
  // none, or no field weighs its arguments: a `book` or `hold`). Yoga hands the same parsed document
  // to every request with that text, so it is weighed once; only the variables are checked again.
  // Subscriptions' windows start when they are sent: weighed every time.
  const fixedCosts = new WeakMap<OperationDefinitionNode, OperationCost>();
  const costOf = (args: ExecutionArgs, operation: OperationDefinitionNode): OperationCost => {
    const hasVariables = Boolean(operation.variableDefinitions?.length);
    const fixed = fixedCosts.get(operation);
    if (fixed)
      return hasVariables ? { ...fixed, invalidVariables: Boolean(coerceVariables(args.schema, operation, args.variableValues).errors) } : fixed;
    const cost = operationCost(args.schema, args.document, operation, args.variableValues);
    if (operation.operation !== 'subscription' && !cost.invalidVariables && !(hasVariables && cost.weighsArguments)) fixedCosts.set(operation, cost);
    return cost;
  };

  async function gate(args: ExecutionArgs): Promise<ExecutionResult | undefined> {
    const context = args.contextValue as Context & Parameters<typeof remoteAddressOf>[0] & { request?: Request };
    if (context.request) charged.add(context.request);
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return;
    const source = { actor: context.actor, headers: context.headers, remoteAddress: remoteAddressOf(context) };
    const estimate = costOf(args, operation);
    const refusal = estimate.invalidVariables ? undefined : overLimits(estimate, options);
    if (refusal || estimate.invalidVariables) {
      const limited = await chargeRefusal(limiter, source, context.log);
      if (limited) return limited;
      // Variables that do not coerce: graphql answers them before any resolver runs.
      return refusal && { errors: [refusal] };
    }
    const { kind, cost } = operationCharge(operation, args.document, bookingMutations, estimate.cost);
    const refused = await limiter.check(source, kind, cost, context.log);
    return refused ? rateLimited(kind, refused.retryAfterSeconds) : undefined;
  }

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const result = await gate(args);
      if (result) setResultAndStopExecution(result);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const result = await gate(args);
      if (result) setResultAndStopExecution(result);
    },
    async onResultProcess({ request, result, setResult, serverContext }) {
      if (charged.has(request) || Array.isArray(result) || isAsyncIterable(result) || result.data !== undefined || !result.errors?.length) return;
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      const limited = await chargeRefusal(limiter, { actor: null, headers: request.headers, remoteAddress: req?.socket?.remoteAddress }, options.log);
      if (limited) setResult(limited);
    },
  };
}

/**
 * Charges an operation refused before execution to its sender (by session or address: who signed in
 * is not known yet). Returns the rate-limit refusal to answer instead when the sender is over.
 */
export async function chargeRefusal(limiter: RateLimiter, source: ClientSource, log: Logger): Promise<ExecutionResult | undefined> {
  const limited = await limiter.check(source, 'read', REFUSED_OPERATION_COST, log);
  return limited ? rateLimited('read', limited.retryAfterSeconds) : undefined;
}

function overLimits(estimate: { cost: number; availabilityFields: number }, limits: OperationLimits) {
  if (estimate.availabilityFields > limits.maxAvailabilityFields) {
    return createGraphQLError(
      `At most ${limits.maxAvailabilityFields} availability fields per request; this one has ${estimate.availabilityFields}`,
      {
        extensions: {
          code: 'TOO_MANY_AVAILABILITY_FIELDS',
          count: estimate.availabilityFields,
          max: limits.maxAvailabilityFields,
          http: { status: 400 },
        },
      },
    );
  }
  if (estimate.cost > limits.maxCost) {
    return createGraphQLError(`Operation cost ${estimate.cost} is over the maximum of ${limits.maxCost}; ask for shorter windows or fewer fields`, {
      extensions: { code: 'COST_LIMIT_EXCEEDED', cost: estimate.cost, maxCost: limits.maxCost, http: { status: 400 } },
    });
  }
  return undefined;
}

function rateLimited(kind: LimitKind, retryAfterSeconds: number): ExecutionResult {
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
