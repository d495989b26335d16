import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';

export const MIN_SERVER_TIME_INTERVAL_MS = 100;

builder.subscriptionField('serverTime', (t) =>
  t.field({
    type: 'DateTime',
    description: 'The server clock, every `intervalMs` (at least 100). A transport check for WebSocket and SSE clients.',
    authScopes: { public: true },
    args: { intervalMs: t.arg.int({ defaultValue: 1000 }) },
    subscribe: async function* (_root, { intervalMs }) {
      const every = intervalMs ?? 1000;
      // A subscription field has no error union: the same code and field path as a ValidationError, as a request error.
      if (every < MIN_SERVER_TIME_INTERVAL_MS) {
        const message = `must be at least ${MIN_SERVER_TIME_INTERVAL_MS}`;
        throw new GraphQLError(`intervalMs: ${message}`, {
          extensions: { code: 'VALIDATION_FAILED', fieldErrors: [{ path: ['intervalMs'], message }] },
        });
      }
      for (;;) {
        yield new Date();
        await sleep(every);
      }
    },
    resolve: (date) => date as Date,
  }),
);

builder.queryField('serverTime', (t) => t.field({ type: 'DateTime', authScopes: { public: true }, resolve: () => new Date() }));
