import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { createTestApp, type TestApp } from './kit/app.js';
import { waitFor } from './kit/wait.js';

let t: TestApp;
let server: RunningServer;
const clients: Client[] = [];
beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '10000' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server.stop();
  await t.close();
});

function wsClient(connectionParams?: Record<string, unknown>): Client {
  const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0 });
  clients.push(client);
  return client;
}

/** Collects `count` results of a subscription over WebSocket, then unsubscribes. */
async function take(client: Client, query: string, count: number): Promise<unknown[]> {
  const results: unknown[] = [];
  const iterator = client.iterate({ query });
  for await (const result of iterator) {
    results.push(result);
    if (results.length >= count) break;
  }
  return results;
}

describe('graphql-ws over WebSocket', () => {
  it('streams serverTime events', async () => {
    const events = (await take(wsClient(), 'subscription { serverTime(intervalMs: 100) }', 2)) as { data: { serverTime: string } }[];
    expect(events).toHaveLength(2);
    for (const event of events) expect(Date.parse(event.data.serverTime)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('authenticates with connectionParams.authorization', async () => {
    const token = await t.tokenFor(['scheduler'], 'ws-user@example.com');
    const [anonymous] = (await take(wsClient(), '{ me { email } }', 1)) as { data: unknown }[];
    expect(anonymous!.data).toEqual({ me: null });
    const [signedIn] = (await take(wsClient({ authorization: `Bearer ${token}` }), '{ me { email roles } }', 1)) as { data: unknown }[];
    expect(signedIn!.data).toEqual({ me: { email: 'ws-user@example.com', roles: ['scheduler'] } });
  });
});

describe('server-sent events', () => {
  it('streams serverTime events as `next`', async () => {
    const abort = new AbortController();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { serverTime(intervalMs: 100) }' }),
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const events = () => text.split('\n\n').filter((block) => block.startsWith('event: next'));
    while (events().length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    abort.abort();
    expect(events().length).toBeGreaterThanOrEqual(2);
    const data = JSON.parse(
      events()[0]!
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    );
    expect(data.data.serverTime).toEqual(expect.any(String));
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, closes sockets, refuses new connections and closes the database', async () => {
    const subscriber = wsClient();
    const closed = new Promise<void>((resolve) => subscriber.on('closed', () => resolve()));
    const received: unknown[] = [];
    const subscriptionEnded = new Promise<unknown>((resolve) =>
      subscriber.subscribe(
        { query: 'subscription { serverTime(intervalMs: 100) }' },
        { next: (v) => received.push(v), error: resolve, complete: () => resolve('complete') },
      ),
    );
    await waitFor(() => received.length > 0, 'a first serverTime', 5000, 20);

    // Hold a lock so that an HTTP request is demonstrably in flight when stop() begins.
    const locker = new pg.Client({ connectionString: t.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE locations IN ACCESS EXCLUSIVE MODE');
    const inFlight = fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ locations { id } }' }),
    });
    await waitFor(
      async () =>
        (await locker.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).rowCount! > 0,
      'the request waiting on the lock',
      5000,
      20,
    );

    const stopping = server.stop();
    await closed;
    expect(await subscriptionEnded).toBeDefined();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

    await locker.query('COMMIT');
    await locker.end();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { locations: [] } });

    // Done once the last request finished, not after SHUTDOWN_TIMEOUT_MS (10 s here).
    const finishedAt = performance.now();
    await stopping;
    expect(performance.now() - finishedAt).toBeLessThan(2000);
    await expect(t.app.db.sql.query('SELECT 1')).rejects.toThrow();
  });
});
