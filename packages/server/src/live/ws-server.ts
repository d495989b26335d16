import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import type { Slotwise } from '../app.js';
import { describeClientErrors } from '../http/client-errors.js';
import { requestIdFrom } from '../http/request-id.js';
import { clientIp } from '../ratelimit/client.js';
import { connectionCap } from './connection-cap.js';
import { chargeRefusal } from '../ratelimit/ratelimit.plugin.js';

type Extra = { request: IncomingMessage };

/**
 * graphql-ws at the GraphQL endpoint. Every operation runs through `yoga.getEnveloped`, so
 * WebSocket traffic passes the same plugins (auth from connectionParams.authorization, limits,
 * metrics) as HTTP, and queries and mutations run as they do over HTTP. Keep-alive: a ping every
 * LIVE_KEEPALIVE_MS; a socket that has not answered within that time is dropped.
 *
 * A bad operation (syntax, validation, limits, a failed context) is answered with an `error`
 * message for that operation only: the socket, and the client's other subscriptions on it, go on.
 * The socket closes only for protocol violations (graphql-ws decides those).
 */
export function attachGraphQLWs(app: Slotwise, httpServer: Server) {
  const { config, log } = app;
  const maxSubscriptions = config.MAX_SUBSCRIPTIONS_PER_CONNECTION;
  // Per connection, the subscriptions admitted. Counted before the first await of onSubscribe, so a
  // burst cannot pass the cap while earlier ones are still being set up. One that has ended is gone
  // from ctx.subscriptions (graphql-ws removes it as soon as the client's Complete arrives), so the
  // count is pruned against it.
  const admitted = new WeakMap<WsContext, Set<string>>();
  const perIp = connectionCap(config.MAX_WS_CONNECTIONS_PER_IP);

  const wsServer = new WebSocketServer({
    server: httpServer,
    path: app.yoga.graphqlEndpoint,
    maxPayload: config.WS_MAX_PAYLOAD_BYTES,
    verifyClient: ({ req }, accept) => {
      const ip = clientIp({ headers: upgradeHeaders(req), remoteAddress: req.socket.remoteAddress }, config.TRUST_PROXY) ?? 'unknown';
      if (!perIp.open(ip, req.socket)) {
        log.warn(
          { ip, requestId: requestIdFrom(req.headers['x-request-id'] as string | undefined) },
          'too many WebSocket connections from one address',
        );
        return accept(false, 429, 'Too many connections from this address');
      }
      accept(true);
    },
  });

  // Refused operations count against the sender's rate limit too (by session or address: who signed
  // in is not known before the context exists); one over its limit is told so instead.
  const refuse = async (ctx: WsContext<Record<string, unknown>, Extra>, requestId: string, errors: readonly GraphQLError[]) => {
    log.warn({ requestId, transport: 'ws', ...describeClientErrors(errors) }, 'operation refused');
    const upgrade = ctx.extra.request;
    const limited = await chargeRefusal(
      app.rateLimiter,
      { actor: null, headers: upgradeHeaders(upgrade), remoteAddress: upgrade.socket?.remoteAddress },
      log,
    );
    return [...((limited?.errors as readonly GraphQLError[] | undefined) ?? errors)];
  };

  const handle = useServer<Record<string, unknown>, Extra>(
    {
      execute: (args) => runSafely(args, 'execute'),
      subscribe: (args) => runSafely(args, 'subscribe'),
      onSubscribe: async (ctx, id, payload) => {
        const requestId = requestIdFrom(undefined);
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.yoga.getEnveloped({
          ...ctx,
          // A POST, as far as Yoga's plugins can tell: graphql-ws carries queries and mutations too.
          request: new Request(`http://localhost${app.yoga.graphqlEndpoint}`, {
            method: 'POST',
            headers: requestHeaders(ctx.extra.request, requestId, payload),
          }),
          connectionParams: ctx.connectionParams,
          params: payload,
        });
        // Armor's limits throw from parse (tokens) and from validation (depth, aliases, cost).
        let document: DocumentNode;
        let errors: readonly GraphQLError[];
        try {
          document = parse(payload.query);
          errors = validate(schema, document);
        } catch (error) {
          return refuse(ctx, requestId, [asGraphQLError(error)]);
        }
        if (errors.length) return refuse(ctx, requestId, errors);
        const operation = getOperationAST(document, payload.operationName);
        if (operation?.operation === 'subscription') {
          const active = admitted.get(ctx) ?? new Set<string>();
          admitted.set(ctx, active);
          for (const other of active) if (!(other in ctx.subscriptions)) active.delete(other);
          if (active.size >= maxSubscriptions) {
            return refuse(ctx, requestId, [
              new GraphQLError(`at most ${maxSubscriptions} subscriptions per connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }),
            ]);
          }
          active.add(id);
        }
        try {
          const args: ExecutionArgs = {
            schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          return args;
        } catch (error) {
          admitted.get(ctx)?.delete(id);
          return refuse(ctx, requestId, [asGraphQLError(error)]);
        }
      },
    },
    wsServer,
    config.LIVE_KEEPALIVE_MS,
  );

  // A socket error is the client's doing (an oversized or malformed frame); ws closes that socket
  // itself (1009, 1002). graphql-ws would print it with console.error and a stack trace: one warn
  // line is enough. This listener runs after graphql-ws's, which has just added its own.
  wsServer.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) =>
      log.warn({ reason: err.message, code: err.code, transport: 'ws' }, 'WebSocket closed for a protocol error'),
    );
  });

  /** Errors thrown by execution become this operation's errors; thrown at graphql-ws they would close the socket (4500). */
  async function runSafely(args: ExecutionArgs, kind: 'execute' | 'subscribe') {
    const run = (args.rootValue as Record<typeof kind, (a: ExecutionArgs) => unknown>)[kind];
    try {
      return (await run(args)) as ExecutionResult;
    } catch (error) {
      const err = asGraphQLError(error);
      if (err.extensions.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error }, 'unexpected error in a WebSocket operation');
      return { errors: [err] } satisfies ExecutionResult;
    }
  }

  return {
    wsServer,
    /** Closes every socket (1001 Going away) and the WebSocket server. */
    async close() {
      await handle.dispose();
      for (const socket of wsServer.clients) socket.terminate();
    },
  };
}

function upgradeHeaders(upgrade: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(upgrade.headers)) if (typeof v === 'string') headers.set(k, v);
  return headers;
}

/** The upgrade's headers, this operation's request id, and its Idempotency-Key (from `extensions.idempotencyKey`). */
function requestHeaders(upgrade: IncomingMessage, requestId: string, payload: { extensions?: Record<string, unknown> | null }): Headers {
  const headers = upgradeHeaders(upgrade);
  headers.set('x-request-id', requestId);
  headers.delete('idempotency-key');
  const key = payload.extensions?.idempotencyKey;
  // A value no header may carry becomes an empty one, which the idempotency plugin refuses as invalid.
  if (typeof key === 'string') headers.set('idempotency-key', /^[\x20-\x7e]*$/.test(key) ? key : '');
  return headers;
}

/** Yoga's and graphql's errors as they are; anything else masked (its message may say too much). */
function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof Error && error.name === 'GraphQLError') return error as GraphQLError;
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
