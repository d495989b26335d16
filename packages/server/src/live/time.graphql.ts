import { setTimeout as sleep } from 'node:timers/promises';
import { builder } from '../builder.js';

builder.subscriptionField('serverTime', (t) =>
  t.field({
    type: 'DateTime',
    description: 'The server clock, every `intervalMs` (at least 100). A transport check for WebSocket and SSE clients.',
    authScopes: { public: true },
    args: { intervalMs: t.arg.int({ defaultValue: 1000 }) },
    subscribe: async function* (_root, { intervalMs }) {
      const every = Math.max(100, intervalMs ?? 1000);
      for (;;) {
        yield new Date();
        await sleep(every);
      }
    },
    resolve: (date) => date as Date,
  }),
);

builder.queryField('serverTime', (t) =>
  t.field({ type: 'DateTime', authScopes: { public: true }, resolve: () => new Date() }),
);
