import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/kit/app.js';
import { wsClient } from '../../test/kit/live.js';
import { waitFor } from '../../test/kit/wait.js';
import { startServer } from '../server.js';

const CLOCK = 'subscription { serverTime(intervalMs: 100) }';

describe('stopping a server with live subscriptions open', () => {
  it('ends SSE and WebSocket streams with LIVE_INTERRUPTED (subscribe again) and SSE `complete`, and stops without waiting out SHUTDOWN_TIMEOUT_MS', async () => {
    const t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '10000' } });
    const server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
    try {
      // An SSE stream, read as text to its end.
      let sse = '';
      const sseDone = (async () => {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ query: CLOCK }),
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) sse += decoder.decode(chunk, { stream: true });
      })();
      // A WebSocket subscription.
      const client = wsClient(server.url);
      let wsValues = 0;
      let wsLast: { errors?: { extensions?: { code?: string } }[] } | undefined;
      const wsDone = new Promise<unknown>((resolve) =>
        client.subscribe(
          { query: CLOCK },
          {
            next: (result) => {
              wsValues++;
              wsLast = result as typeof wsLast;
            },
            error: resolve,
            complete: () => resolve('complete'),
          },
        ),
      );
      await waitFor(() => sse.includes('event: next') && wsValues > 0, 'both streams to deliver');

      const started = Date.now();
      await server.stop();
      expect(Date.now() - started).toBeLessThan(3_000);
      await sseDone;
      // The last result tells the client to subscribe again; then the stream completes.
      const events = sse.trim().split('\n\n');
      expect(events.at(-2)).toContain('"code":"LIVE_INTERRUPTED"');
      expect(events.at(-1)).toMatch(/^event: complete/);
      await wsDone;
      expect(wsLast?.errors?.[0]?.extensions?.code).toBe('LIVE_INTERRUPTED');
      await client.dispose();
    } finally {
      await server.stop();
      await t.close();
    }
  }, 30_000);
});
