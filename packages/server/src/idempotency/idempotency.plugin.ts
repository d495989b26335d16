import { getOperationAST, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
// Yoga's own error factory: its serializer then recognises the errors and strips `extensions.http`.
import { createGraphQLError, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import type { Context } from '../context.js';
import { createHash } from 'node:crypto';
import { clientIp, remoteAddressOf, rootFieldNames, type ClientSource } from '../ratelimit/client.js';
import { payloadHash, type IdempotencyScope, type IdempotencyService, type StoredResponse } from './idempotency.service.js';

const HEADER = 'idempotency-key';

/** The public mutations that create or change bookings: REQUIRE_IDEMPOTENCY_KEY=true refuses them without a key. */
export const PUBLIC_BOOKING_MUTATIONS: ReadonlySet<string> = new Set(['hold', 'book', 'confirm', 'cancelBooking', 'rescheduleBooking', 'register']);
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Idempotency-Key for mutations sent over HTTP (seed 003).
 *
 * Refusals (key reused with another payload, key still in progress, malformed key) are
 * request-level GraphQL errors with an HTTP status, not members of the mutations' result unions:
 * they are about the request envelope, not the business operation, they apply to every mutation
 * alike (so no union needs to grow), and they must be decided before any resolver runs; an
 * HTTP client or proxy can act on 422/409 without parsing GraphQL.
 *
 * A concurrent repeat waits briefly (IdempotencyService.waitMs) for the first request to finish and
 * then gets its response; if it is still running after that, the repeat gets 409 and may retry.
 *
 * Over graphql-ws the key travels in the operation's `extensions.idempotencyKey` (a socket has no
 * per-message headers; live/ws-server.ts turns it into the header) and the rules are the same.
 */
export function useIdempotency(service: IdempotencyService, options: { trustedProxies: number; requireKey?: boolean }): Plugin {
  // Requests that came through Yoga's HTTP handler: their response is seen in onExecutionResult.
  // The others (graphql-ws) are finished when their execution is done.
  const httpRequests = new WeakSet<Request>();
  const claims = new WeakMap<Request, IdempotencyScope>();
  const replayed = new WeakSet<Request>();

  /**
   * graphql-ws: this hook runs before error masking, so a result with an uncoded (unexpected, not
   * yet masked) error is not stored; the key is freed and a retry runs afresh.
   */
  async function finishUnmasked(request: Request, result: ExecutionResult) {
    const scope = claims.get(request);
    if (!scope) return;
    claims.delete(request);
    const response = JSON.parse(JSON.stringify({ data: result.data, errors: result.errors })) as StoredResponse;
    const uncoded = response.errors?.some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR');
    if (uncoded || Symbol.asyncIterator in Object(result)) return service.release(scope);
    await service.complete(scope, response);
  }

  return {
    onParams({ request }) {
      httpRequests.add(request);
    },

    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as Context & YogaInitialContext & Parameters<typeof remoteAddressOf>[0];
      const request = context.request;
      if (!request) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const key = context.headers.get(HEADER);
      if (key === null) {
        if (options.requireKey && rootFieldNames(operation.selectionSet, args.document).some((name) => PUBLIC_BOOKING_MUTATIONS.has(name))) {
          return setResultAndStopExecution(
            refusal(
              'IDEMPOTENCY_KEY_REQUIRED',
              428,
              'This mutation needs an Idempotency-Key header (any unique value, e.g. a UUID, reused only to retry the same request)',
              {
                header: 'Idempotency-Key',
              },
            ),
          );
        }
        return;
      }
      if (!KEY_PATTERN.test(key)) {
        return setResultAndStopExecution(refusal('IDEMPOTENCY_KEY_INVALID', 400, 'Idempotency-Key must be 1-255 visible ASCII characters'));
      }

      const scope: IdempotencyScope = {
        key,
        actor: idempotencyOwner({ actor: context.actor, headers: context.headers, remoteAddress: remoteAddressOf(context) }, options.trustedProxies),
        operation: rootFields(operation),
        payloadHash: payloadHash(context.params),
      };
      const outcome = await service.begin(scope);
      switch (outcome.kind) {
        case 'claimed':
          claims.set(request, scope);
          if (httpRequests.has(request)) return;
          return { onExecuteDone: ({ result }) => finishUnmasked(request, result as ExecutionResult) };
        case 'replay':
          replayed.add(request);
          return setResultAndStopExecution(revive(outcome.response));
        case 'reused':
          return setResultAndStopExecution(refusal('IDEMPOTENCY_KEY_REUSED', 422, 'This Idempotency-Key was already used with a different request'));
        case 'in-progress':
          return setResultAndStopExecution(
            refusal('IDEMPOTENCY_KEY_IN_PROGRESS', 409, 'A request with this Idempotency-Key is still in progress; retry shortly'),
          );
      }
    },

    // Runs after error masking, so the stored response is exactly what the client was sent.
    async onExecutionResult({ request, result }) {
      const scope = claims.get(request);
      if (!scope) return;
      claims.delete(request);
      if (!result || Array.isArray(result) || Symbol.asyncIterator in result) return service.release(scope);
      const response = JSON.parse(JSON.stringify({ data: result.data, errors: result.errors })) as StoredResponse;
      if (onlyUnexpectedErrors(response)) return service.release(scope);
      await service.complete(scope, response);
    },

    onResponse({ request, response }) {
      if (replayed.has(request)) response.headers.set('idempotent-replayed', 'true');
      // Execution threw before a result existed: free the key so a retry can run.
      const scope = claims.get(request);
      if (scope) {
        claims.delete(request);
        return service.release(scope);
      }
    },
  };
}

/**
 * Whose keys these are: the signed-in user, or for anonymous callers their X-Session-Id together
 * with their address (hashed: neither is stored). Keys of different owners never meet, so a
 * visitor who guesses or copies another's key runs their own request and never sees a replay.
 */
export function idempotencyOwner(source: ClientSource, trustedProxies: number): string {
  if (source.actor) return `user:${source.actor.userId}`;
  const session = source.headers.get('x-session-id')?.trim() ?? '';
  const ip = clientIp(source, trustedProxies) ?? 'unknown';
  return `anon:${createHash('sha256').update(`${session}\n${ip}`).digest('base64url').slice(0, 22)}`;
}

function refusal(code: string, status: number, message: string, extra: Record<string, unknown> = {}): ExecutionResult {
  return { errors: [createGraphQLError(message, { extensions: { code, ...extra, http: { status } } })] };
}

/** Stored errors become GraphQLErrors again, so Yoga treats them as the expected errors they were. */
function revive(response: StoredResponse): ExecutionResult {
  return {
    data: response.data as ExecutionResult['data'],
    ...(response.errors && {
      errors: response.errors.map((e) => createGraphQLError(e.message, { path: e.path, extensions: e.extensions })),
    }),
  };
}

/** Nothing ran to completion and every error was unexpected: a retry deserves a fresh attempt. */
function onlyUnexpectedErrors(response: StoredResponse): boolean {
  if (!response.errors?.length) return false;
  const anyField = response.data && typeof response.data === 'object' && Object.values(response.data).some((v) => v !== null);
  if (anyField) return false;
  return response.errors.every((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR');
}

function rootFields(operation: OperationDefinitionNode): string {
  return operation.selectionSet.selections.map((s) => (s.kind === 'Field' ? s.name.value : '...')).join(',');
}
