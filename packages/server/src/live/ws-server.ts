import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Slotwise } from '../app.js';

/**
 * graphql-ws at the GraphQL endpoint. Every operation runs through `yoga.getEnveloped`, so
 * WebSocket traffic passes the same plugins (auth from connectionParams.authorization, limits,
 * metrics) as HTTP. Keep-alive: a ping every LIVE_KEEPALIVE_MS; a socket that has not answered
 * within that time is dropped.
 */
export function attachGraphQLWs(app: Slotwise, httpServer: Server) {
  const maxSubscriptions = app.config.MAX_SUBSCRIPTIONS_PER_CONNECTION;
  const tooMany = () => ({
    errors: [new GraphQLError(`at most ${maxSubscriptions} subscriptions per connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })],
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: app.yoga.graphqlEndpoint });
  const handle = useServer(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const upgrade = ctx.extra.request;
        const headers = new Headers();
        for (const [k, v] of Object.entries(upgrade.headers)) if (typeof v === 'string') headers.set(k, v);
        const request = new Request(`http://localhost${app.yoga.graphqlEndpoint}`, { headers });
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.yoga.getEnveloped({
          ...ctx,
          request,
          connectionParams: ctx.connectionParams,
          params: payload,
        });
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        // graphql-ws has already registered this one, so the count includes it. The refusal is a
        // result with errors for this operation only; the connection and its other operations go on.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) args.rootValue = { execute: tooMany, subscribe: tooMany };
        const errors = validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wsServer,
    app.config.LIVE_KEEPALIVE_MS,
  );

  return {
    wsServer,
    /** Closes every socket (1001 Going away) and the WebSocket server. */
    async close() {
      await handle.dispose();
      for (const socket of wsServer.clients) socket.terminate();
    },
  };
}
